//! Walk and drive profiles: which `highway` classes are routable, at what speed, with which
//! one-way rule.
//!
//! The defaults are the data file `profiles.toml` of this crate (read it for the sources and
//! assumptions behind each number). A project may override any speed or add a class.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::Deserialize;

/// Travel mode of a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    Walk,
    Drive,
    /// Ambulances, fire engines, police and rescue vehicles on an emergency task.
    Emergency,
}

impl FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "walk" | "foot" | "pedestrian" => Ok(Mode::Walk),
            "drive" | "car" => Ok(Mode::Drive),
            "emergency" | "ambulance" | "fire" | "rescue" => Ok(Mode::Emergency),
            other => Err(format!("unknown profile '{other}': use walk, drive or emergency")),
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Walk => "walk",
            Mode::Drive => "drive",
            Mode::Emergency => "emergency",
        })
    }
}

/// A routing profile.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Profile {
    #[serde(skip, default = "default_mode")]
    pub mode: Mode,
    /// Whether one-way rules apply.
    pub oneway: bool,
    /// Whether turn restrictions apply ([`crate::turns`]).
    #[serde(default)]
    pub turn_restrictions: bool,
    /// Speed in km/h per `highway` class; classes absent here are not routable.
    pub speeds_kmh: BTreeMap<String, f64>,
}

fn default_mode() -> Mode {
    Mode::Walk
}

#[derive(Deserialize)]
struct ProfileFile {
    walk: Profile,
    drive: Profile,
    emergency: Profile,
}

const PROFILES_TOML: &str = include_str!("../profiles.toml");

impl Profile {
    /// The shipped default profile for a mode.
    pub fn builtin(mode: Mode) -> Profile {
        // The file is part of this crate and checked by a test; parsing cannot fail at run time
        // unless the crate itself is broken.
        let file: ProfileFile = toml::from_str(PROFILES_TOML).expect("profiles.toml of renxing-net is valid");
        let mut p = match mode {
            Mode::Walk => file.walk,
            Mode::Drive => file.drive,
            Mode::Emergency => file.emergency,
        };
        p.mode = mode;
        p
    }

    /// Speed for a `highway` class, `None` when the class is not routable in this profile.
    pub fn speed_kmh(&self, highway: &str) -> Option<f64> {
        self.speeds_kmh.get(highway).copied()
    }

    /// Replace or add class speeds; a speed ≤ 0 removes the class from the profile.
    pub fn with_speeds(mut self, overrides: &BTreeMap<String, f64>) -> Result<Profile, String> {
        for (class, &kmh) in overrides {
            if !kmh.is_finite() {
                return Err(format!("speed for highway class '{class}' is not a number"));
            }
            if kmh <= 0.0 {
                self.speeds_kmh.remove(class);
            } else {
                self.speeds_kmh.insert(class.clone(), kmh);
            }
        }
        Ok(self)
    }

    /// Speed (m/s) used for the off-network stretch between a point and its snapped edge:
    /// the slowest routable speed of the profile, a conservative choice.
    pub fn access_speed_mps(&self) -> f64 {
        self.speeds_kmh.values().copied().fold(f64::INFINITY, f64::min) / 3.6
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_profiles_parse_and_exclude_motorways_from_walking() {
        let walk = Profile::builtin(Mode::Walk);
        assert!(!walk.oneway);
        assert_eq!(walk.speed_kmh("footway"), Some(5.0));
        assert_eq!(walk.speed_kmh("motorway"), None);
        assert_eq!(walk.speed_kmh(""), None);
        let drive = Profile::builtin(Mode::Drive);
        assert!(drive.oneway);
        assert_eq!(drive.speed_kmh("footway"), None);
        assert!(drive.speed_kmh("motorway").unwrap() > drive.speed_kmh("residential").unwrap());
        let emergency = Profile::builtin(Mode::Emergency);
        assert!(
            !emergency.oneway,
            "Road Traffic Safety Law art. 53: direction not binding"
        );
        assert_eq!(emergency.speeds_kmh, drive.speeds_kmh);
        assert_eq!("ambulance".parse::<Mode>(), Ok(Mode::Emergency));
    }

    #[test]
    fn overrides_change_add_and_remove_classes() {
        let mut o = BTreeMap::new();
        o.insert("footway".to_string(), 4.0);
        o.insert("trunk".to_string(), 0.0);
        let walk = Profile::builtin(Mode::Walk).with_speeds(&o).unwrap();
        assert_eq!(walk.speed_kmh("footway"), Some(4.0));
        assert_eq!(walk.speed_kmh("trunk"), None);
    }
}
