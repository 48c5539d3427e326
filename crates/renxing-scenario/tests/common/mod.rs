pub mod beijing_core;
