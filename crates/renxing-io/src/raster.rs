//! Raster grids: GeoTIFF, ESRI ASCII grids and Surfer 6 binary grids, read into a
//! [`Grid`] (north-up, row 0 = northern edge, `f32` values, optional nodata marker).
//!
//! [`read_grid`] picks the reader from the file name: `.tif`/`.tiff` → GeoTIFF; `.asc` and
//! `.asc.gz` → ESRI ASCII grid; `.grd` and `.grd.gz` → recognised by content (a Surfer 6 binary
//! grid starts with the four bytes `DSBB`; anything else is read as an ESRI ASCII grid). A file
//! starting with the gzip magic bytes is decompressed whatever its name. The grid keeps the
//! coordinates of the file: nothing is reprojected, and [`Grid::crs`] says what they are.
//! Grids of more than 4·10⁹ cells (16 GB of values) are refused: clip them first.
//!
//! # GeoTIFF (`.tif`, `.tiff`)
//!
//! - **Pixels**: the first image of the file, which must have one band (`SamplesPerPixel` = 1);
//!   8/16/32/64-bit unsigned or signed integers and 16/32/64-bit floats are converted to `f32`
//!   (integers above 2²⁴ and doubles lose precision). Strips or tiles, and any compression and
//!   predictor the `tiff` crate decodes (none, LZW, Deflate, PackBits, JPEG; horizontal and
//!   floating-point predictors).
//! - **Georeference**: either `ModelPixelScale` (tag 33550: `sx, sy, sz`) with `ModelTiepoint`
//!   (33922: raster `I, J, K` ↦ model `X, Y, Z`; only the first tie point is used), meaning
//!   `X(i) = X + (i − I)·sx`, `Y(j) = Y − (j − J)·sy`; or `ModelTransformation` (34264: a 4×4
//!   row-major matrix `[a b 0 d; e f 0 h; …]`, `X = a·i + b·j + d`, `Y = e·i + f·j + h`), which
//!   must have `b = e = 0` (rotated or sheared rasters are refused). The x pixel size must be
//!   positive. A negative `sy` (or positive `f`), i.e. row 0 at the southern edge, is accepted
//!   and the rows are flipped to make the grid north-up.
//! - **Raster type** (GeoKey 1025 `GTRasterTypeGeoKey`): `PixelIsArea` (1, the default) means the
//!   raster coordinate `(0, 0)` is the outer top-left corner of the first pixel. `PixelIsPoint`
//!   (2) means it is that pixel's **centre**; the corner is then half a cell further west and
//!   north, and the grid origin is shifted by `(−sx/2, +sy/2)` — the convention GDAL follows.
//! - **CRS** (GeoKeyDirectory, tag 34735): `ProjectedCSTypeGeoKey` (3072) when the model is
//!   projected (`GTModelTypeGeoKey` 1024 = 1), `GeographicTypeGeoKey` (2048) when it is
//!   geographic (1024 = 2), else whichever of 3072 then 2048 holds an EPSG code (user-defined
//!   32767 and undefined 0 are no code). EPSG 4326 becomes [`Crs::Wgs84`], 4490
//!   [`Crs::Cgcs2000`], any other code [`Crs::Epsg`]. The `crs` argument, when given, overrides
//!   the file. With neither, the grid is taken as WGS84 when the model is not declared
//!   projected and its extent lies within ±180°/±90°; otherwise reading fails and asks for the
//!   CRS.
//! - **Nodata**: the ASCII tag `GDAL_NODATA` (42113), e.g. `-9999`; `nan` means NaN cells are the
//!   empty ones, which [`Grid::is_data`] already excludes (nodata = None).
//! - A TIFF without georeference tags is refused.
//!
//! # ESRI ASCII grid (`.asc`, `.asc.gz`, and `.grd` text)
//!
//! A header of `key value` lines, keys case-insensitive and in any order:
//! `ncols`, `nrows` (positive integers); `xllcorner` or `xllcenter` and `yllcorner` or
//! `yllcenter` (the lower-left corner of the lower-left cell, or its centre); `cellsize`, or
//! `dx` and `dy` for non-square cells (positive, in CRS units); optional `NODATA_value`.
//! Then `nrows` data lines, **one grid row per line**, northern row first, each with `ncols`
//! numbers separated by blanks (blank lines are skipped). A short or long row, a non-numeric
//! value or a wrong number of rows is an error naming the line. The values are parsed directly
//! as `f32`, and so is `NODATA_value`, so the two compare equal even when not representable
//! (`-999999999` becomes `-1e9` in both).
//!
//! The format holds no CRS; a sibling `.prj` is **not** parsed. The caller passes the CRS, and
//! `None` means WGS84 longitude/latitude.
//!
//! # Surfer 6 binary grid (`.grd`, `.grd.gz` starting with `DSBB`)
//!
//! Little-endian: the 4 bytes `DSBB`; `nx`, `ny` (i16, columns and rows, each ≥ 2); `xlo`, `xhi`,
//! `ylo`, `yhi`, `zlo`, `zhi` (f64); then `nx·ny` f32 values row by row from the **southern**
//! row up. `xlo…yhi` are the coordinates of the outermost grid **nodes** (cell centres), so the
//! cell size is `(xhi − xlo)/(nx − 1)` and the outer corner lies half a cell beyond. Values of
//! 1.70141×10³⁸ or more are Surfer's blanks. Some producers (the GAR2015 flood maps) instead
//! write a marker such as −9999 and leave it out of the header's `zlo…zhi` range: when all the
//! values outside that range are one and the same number, that number is taken as nodata (and
//! blanks, if any, are set to it). No CRS is stored: `None` means WGS84.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use flate2::read::GzDecoder;
use renxing_geo::crs::Crs;
use renxing_geo::grid::Grid;
use tiff::decoder::{ChunkType, Decoder, DecodingResult};
use tiff::tags::Tag;

use crate::error::{IoError, Result};

/// Reads a raster grid, choosing the reader from the file name (see the module doc).
///
/// `crs` overrides the CRS of a GeoTIFF, and gives the CRS of ASCII and Surfer grids (which have
/// none; `None` = WGS84).
pub fn read_grid(path: &Path, crs: Option<Crs>) -> Result<Grid> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.ends_with(".tif") || name.ends_with(".tiff") {
        read_geotiff(path, crs)
    } else if name.ends_with(".asc") || name.ends_with(".asc.gz") {
        read_ascii_grid(path, crs)
    } else if name.ends_with(".grd") || name.ends_with(".grd.gz") {
        let (magic, reader) = sniff(path, open_maybe_gz(path)?, 4)?;
        match magic.as_slice() {
            b"DSBB" => surfer_binary(path, reader, crs),
            b"DSAA" | b"DSRB" => Err(IoError::at(
                path,
                "byte 0",
                format!(
                    "Surfer {} grid is not supported (only Surfer 6 binary 'DSBB' and ESRI ASCII)",
                    if magic == b"DSAA" { "6 ASCII 'DSAA'" } else { "7 'DSRB'" }
                ),
            )),
            _ => esri_ascii(path, reader, crs),
        }
    } else {
        Err(IoError::new(
            path,
            "unknown raster format: expected a .tif, .tiff, .asc, .asc.gz, .grd or .grd.gz file",
        ))
    }
}

/// Reads an ESRI ASCII grid, gzip-compressed or not. `crs` None = WGS84.
pub fn read_ascii_grid(path: &Path, crs: Option<Crs>) -> Result<Grid> {
    let reader = open_maybe_gz(path)?;
    esri_ascii(path, reader, crs)
}

/// Reads a Surfer 6 binary grid (`DSBB`), gzip-compressed or not. `crs` None = WGS84.
pub fn read_surfer_grid(path: &Path, crs: Option<Crs>) -> Result<Grid> {
    let reader = open_maybe_gz(path)?;
    surfer_binary(path, reader, crs)
}

/// Reads a single-band GeoTIFF (see the module doc for what is understood).
pub fn read_geotiff(path: &Path, crs: Option<Crs>) -> Result<Grid> {
    let file = File::open(path).map_err(|e| IoError::os(path, e))?;
    let mut dec =
        Decoder::new(BufReader::new(file)).map_err(|e| IoError::new(path, format!("not a readable TIFF: {e}")))?;
    let (width, height) = dec
        .dimensions()
        .map_err(|e| IoError::new(path, format!("image dimensions: {e}")))?;
    let samples = tag_u64(path, &mut dec, Tag::SamplesPerPixel, "SamplesPerPixel (277)")?.unwrap_or(1);
    if samples != 1 {
        return Err(IoError::new(
            path,
            format!("has {samples} bands (SamplesPerPixel = {samples}); only single-band rasters are supported"),
        ));
    }
    let bits = tag_u64(path, &mut dec, Tag::BitsPerSample, "BitsPerSample (258)")?.unwrap_or(1);
    if ![8, 16, 32, 64].contains(&bits) {
        return Err(IoError::new(
            path,
            format!("{bits}-bit samples are not supported (8, 16, 32 or 64 bits per sample)"),
        ));
    }

    let keys = geokeys(path, &mut dec)?;
    let georef = georeference(path, &mut dec, keys.pixel_is_point)?;
    let nodata = gdal_nodata(path, &mut dec)?;
    let (width, height) = (width as usize, height as usize);

    let (x0, y0, flip) = if georef.sy > 0.0 {
        (georef.ox, georef.oy, false)
    } else {
        // Row 0 is the southern edge: the northern edge is the bottom of the last row.
        (georef.ox, georef.oy - height as f64 * georef.sy, true)
    };
    let dx = georef.sx;
    let dy = georef.sy.abs();

    let crs = match (crs, keys.crs) {
        (Some(c), _) => c,
        (None, Some(c)) => c,
        (None, None) => {
            let lonlat =
                x0 >= -180.0 && x0 + width as f64 * dx <= 180.0 && y0 <= 90.0 && y0 - height as f64 * dy >= -90.0;
            if keys.projected || !lonlat {
                return Err(IoError::new(
                    path,
                    "no EPSG code in the GeoKeys (GeographicTypeGeoKey 2048 / ProjectedCSTypeGeoKey 3072) \
                     and the raster is not plainly longitude/latitude: pass its CRS",
                ));
            }
            Crs::Wgs84
        }
    };

    let mut values = read_tiff_samples(path, &mut dec, width, height)?;
    if flip {
        flip_rows(&mut values, width);
    }
    Ok(Grid {
        ncols: width,
        nrows: height,
        x0,
        y0,
        dx,
        dy,
        values,
        nodata,
        crs,
    })
}

/// Largest grid read (16 GB of `f32`): a header announcing more is taken as corrupt or as a
/// raster to clip first.
const MAX_CELLS: usize = 4_000_000_000;

fn too_large(ncols: usize, nrows: usize) -> String {
    format!("{ncols} × {nrows} cells exceeds the limit of {MAX_CELLS} cells: clip the raster first")
}

// ---------------------------------------------------------------------------------------------
// GeoTIFF internals

type TiffDecoder = Decoder<BufReader<File>>;

/// `X = ox + i·sx`, `Y = oy − j·sy` with `(i, j)` raster coordinates of pixel corners.
struct GeoRef {
    ox: f64,
    oy: f64,
    sx: f64,
    sy: f64,
}

struct GeoKeys {
    crs: Option<Crs>,
    pixel_is_point: bool,
    projected: bool,
}

fn tag_u64(path: &Path, dec: &mut TiffDecoder, tag: Tag, name: &str) -> Result<Option<u64>> {
    dec.find_tag_unsigned::<u64>(tag)
        .map_err(|e| IoError::at(path, format!("tag {name}"), e.to_string()))
}

fn tag_f64s(path: &Path, dec: &mut TiffDecoder, tag: Tag, name: &str) -> Result<Option<Vec<f64>>> {
    match dec.find_tag(tag) {
        Ok(None) => Ok(None),
        Ok(Some(v)) => v
            .into_f64_vec()
            .map(Some)
            .map_err(|e| IoError::at(path, format!("tag {name}"), format!("expected numbers: {e}"))),
        Err(e) => Err(IoError::at(path, format!("tag {name}"), e.to_string())),
    }
}

fn geokeys(path: &Path, dec: &mut TiffDecoder) -> Result<GeoKeys> {
    let pos = "tag GeoKeyDirectory (34735)";
    let dir = match dec.find_tag(Tag::GeoKeyDirectoryTag) {
        Ok(None) => {
            return Ok(GeoKeys {
                crs: None,
                pixel_is_point: false,
                projected: false,
            });
        }
        Ok(Some(v)) => v
            .into_u16_vec()
            .map_err(|e| IoError::at(path, pos, format!("expected SHORT values: {e}")))?,
        Err(e) => return Err(IoError::at(path, pos, e.to_string())),
    };
    if dir.len() < 4 {
        return Err(IoError::at(
            path,
            pos,
            format!("{} values, fewer than the 4 of its header", dir.len()),
        ));
    }
    let n = dir[3] as usize;
    if dir.len() < 4 + 4 * n {
        return Err(IoError::at(
            path,
            pos,
            format!("header announces {n} keys but only {} values follow", dir.len() - 4),
        ));
    }
    let mut model_type = None;
    let mut raster_type = None;
    let mut geographic = None;
    let mut projected = None;
    for k in 0..n {
        let e = &dir[4 + 4 * k..8 + 4 * k];
        // Keys stored inline have location 0; ours are all SHORT values stored inline.
        if e[1] != 0 {
            continue;
        }
        match e[0] {
            1024 => model_type = Some(e[3]),
            1025 => raster_type = Some(e[3]),
            2048 => geographic = Some(e[3]),
            3072 => projected = Some(e[3]),
            _ => {}
        }
    }
    let pixel_is_point = match raster_type {
        None | Some(1) => false,
        Some(2) => true,
        Some(t) => {
            return Err(IoError::at(
                path,
                pos,
                format!("GTRasterTypeGeoKey (1025) = {t}: expected 1 (PixelIsArea) or 2 (PixelIsPoint)"),
            ));
        }
    };
    let code = |c: Option<u16>| c.filter(|&c| c != 0 && c != 32767);
    let epsg = match model_type {
        Some(1) => code(projected),
        Some(2) => code(geographic),
        _ => code(projected).or(code(geographic)),
    };
    let crs = epsg.map(|c| match c {
        4326 => Crs::Wgs84,
        4490 => Crs::Cgcs2000,
        c => Crs::Epsg(c as u32),
    });
    Ok(GeoKeys {
        crs,
        pixel_is_point,
        projected: model_type == Some(1),
    })
}

fn georeference(path: &Path, dec: &mut TiffDecoder, pixel_is_point: bool) -> Result<GeoRef> {
    let scale = tag_f64s(path, dec, Tag::ModelPixelScaleTag, "ModelPixelScale (33550)")?;
    let tie = tag_f64s(path, dec, Tag::ModelTiepointTag, "ModelTiepoint (33922)")?;
    let matrix = tag_f64s(path, dec, Tag::ModelTransformationTag, "ModelTransformation (34264)")?;
    // In PixelIsPoint rasters integer raster coordinates are pixel centres.
    let shift = if pixel_is_point { 0.5 } else { 0.0 };
    let g = match (scale, tie, matrix) {
        (Some(scale), Some(tie), _) => {
            let pos = "tag ModelPixelScale (33550) / ModelTiepoint (33922)";
            if scale.len() < 2 || tie.len() < 6 {
                return Err(IoError::at(
                    path,
                    pos,
                    format!(
                        "{} scale and {} tie-point values: expected 3 and 6",
                        scale.len(),
                        tie.len()
                    ),
                ));
            }
            let (sx, sy) = (scale[0], scale[1]);
            let (i, j, x, y) = (tie[0] + shift, tie[1] + shift, tie[3], tie[4]);
            GeoRef {
                ox: x - i * sx,
                oy: y + j * sy,
                sx,
                sy,
            }
        }
        (_, _, Some(m)) => {
            let pos = "tag ModelTransformation (34264)";
            if m.len() < 16 {
                return Err(IoError::at(path, pos, format!("{} values: expected 16", m.len())));
            }
            if m[1] != 0.0 || m[4] != 0.0 {
                return Err(IoError::at(
                    path,
                    pos,
                    format!(
                        "rotated or sheared raster (terms {} and {} are not 0): only north-up rasters are supported",
                        m[1], m[4]
                    ),
                ));
            }
            let (sx, sy) = (m[0], -m[5]);
            GeoRef {
                ox: m[3] - shift * sx,
                oy: m[7] + shift * sy,
                sx,
                sy,
            }
        }
        _ => {
            return Err(IoError::new(
                path,
                "no georeference (ModelPixelScale/ModelTiepoint or ModelTransformation tags missing)",
            ));
        }
    };
    if !(g.sx.is_finite() && g.sy.is_finite() && g.ox.is_finite() && g.oy.is_finite()) {
        return Err(IoError::new(path, "georeference has non-finite values"));
    }
    if g.sx <= 0.0 {
        return Err(IoError::new(
            path,
            format!(
                "pixel width {} is not positive: only rasters running west to east are supported",
                g.sx
            ),
        ));
    }
    if g.sy == 0.0 {
        return Err(IoError::new(path, "pixel height is 0"));
    }
    Ok(g)
}

fn gdal_nodata(path: &Path, dec: &mut TiffDecoder) -> Result<Option<f32>> {
    let pos = "tag GDAL_NODATA (42113)";
    let text = match dec.find_tag(Tag::GdalNodata) {
        Ok(None) => return Ok(None),
        Ok(Some(v)) => v
            .into_string()
            .map_err(|e| IoError::at(path, pos, format!("expected ASCII text: {e}")))?,
        Err(e) => return Err(IoError::at(path, pos, e.to_string())),
    };
    let t = text.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    let v: f64 = t
        .parse()
        .map_err(|_| IoError::at(path, pos, format!("'{t}' is not a number")))?;
    Ok(if v.is_nan() { None } else { Some(v as f32) })
}

/// Decodes the image chunk by chunk (strips or tiles) into row-major `f32`.
fn read_tiff_samples(path: &Path, dec: &mut TiffDecoder, width: usize, height: usize) -> Result<Vec<f32>> {
    let n = width
        .checked_mul(height)
        .filter(|&n| n <= MAX_CELLS)
        .ok_or_else(|| IoError::new(path, too_large(width, height)))?;
    let mut out: Vec<f32> = Vec::new();
    out.try_reserve_exact(n)
        .map_err(|_| IoError::new(path, format!("cannot allocate {width} × {height} pixels")))?;
    out.resize(n, f32::NAN);

    let (cw, ch) = dec.chunk_dimensions();
    let (cw, ch) = (cw as usize, ch as usize);
    let (kind, count) = match dec.get_chunk_type() {
        ChunkType::Strip => ("strip", dec.strip_count()),
        ChunkType::Tile => ("tile", dec.tile_count()),
    };
    let count = count.map_err(|e| IoError::new(path, format!("{kind} layout: {e}")))?;
    if cw == 0 || ch == 0 {
        return Err(IoError::new(path, format!("{kind} size {cw} × {ch} is empty")));
    }
    let across = width.div_ceil(cw).max(1);
    for i in 0..count {
        let (col0, row0) = ((i as usize % across) * cw, (i as usize / across) * ch);
        let pos = format!("{kind} {i} of {count} (rows from {row0}, columns from {col0})");
        let (w, h) = dec.chunk_data_dimensions(i);
        let (w, h) = (w as usize, h as usize);
        if row0 + h > height || col0 + w > width {
            return Err(IoError::at(
                path,
                pos,
                format!("{w} × {h} {kind} extends past the {width} × {height} image"),
            ));
        }
        let chunk = dec
            .read_chunk(i)
            .map_err(|e| IoError::at(path, pos.clone(), format!("cannot decode: {e}")))?;
        let vals = chunk_to_f32(chunk);
        if vals.len() < w * h {
            return Err(IoError::at(
                path,
                pos,
                format!("{} values decoded, expected {}", vals.len(), w * h),
            ));
        }
        for r in 0..h {
            let dst = (row0 + r) * width + col0;
            out[dst..dst + w].copy_from_slice(&vals[r * w..r * w + w]);
        }
    }
    Ok(out)
}

fn chunk_to_f32(chunk: DecodingResult) -> Vec<f32> {
    match chunk {
        DecodingResult::F32(v) => v,
        DecodingResult::U8(v) => v.into_iter().map(f32::from).collect(),
        DecodingResult::I8(v) => v.into_iter().map(f32::from).collect(),
        DecodingResult::U16(v) => v.into_iter().map(f32::from).collect(),
        DecodingResult::I16(v) => v.into_iter().map(f32::from).collect(),
        DecodingResult::U32(v) => v.into_iter().map(|x| x as f32).collect(),
        DecodingResult::I32(v) => v.into_iter().map(|x| x as f32).collect(),
        DecodingResult::U64(v) => v.into_iter().map(|x| x as f32).collect(),
        DecodingResult::I64(v) => v.into_iter().map(|x| x as f32).collect(),
        DecodingResult::F16(v) => v.into_iter().map(|x| x.to_f32()).collect(),
        DecodingResult::F64(v) => v.into_iter().map(|x| x as f32).collect(),
    }
}

fn flip_rows(values: &mut [f32], width: usize) {
    if width == 0 {
        return;
    }
    let rows = values.len() / width;
    for r in 0..rows / 2 {
        let (top, bottom) = values.split_at_mut((rows - 1 - r) * width);
        top[r * width..(r + 1) * width].swap_with_slice(&mut bottom[..width]);
    }
}

// ---------------------------------------------------------------------------------------------
// Text and Surfer internals

/// Opens a file, decompressing it when it starts with the gzip magic bytes.
fn open_maybe_gz(path: &Path) -> Result<Box<dyn BufRead>> {
    let file = File::open(path).map_err(|e| IoError::os(path, e))?;
    let mut reader = BufReader::new(file);
    let head = reader.fill_buf().map_err(|e| IoError::os(path, e))?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(BufReader::new(GzDecoder::new(reader))))
    } else {
        Ok(Box::new(reader))
    }
}

/// Reads the first `n` bytes (fewer at end of file) and gives them back with a reader that
/// still yields the whole stream.
fn sniff(path: &Path, reader: Box<dyn BufRead>, n: usize) -> Result<(Vec<u8>, Box<dyn BufRead>)> {
    let mut head = Vec::with_capacity(n);
    let mut reader = reader;
    (&mut reader)
        .take(n as u64)
        .read_to_end(&mut head)
        .map_err(|e| IoError::at(path, "byte 0", format!("cannot read: {e}")))?;
    let whole: Box<dyn BufRead> = Box::new(std::io::Cursor::new(head.clone()).chain(reader));
    Ok((head, whole))
}

#[derive(Default)]
struct AsciiHeader {
    ncols: Option<usize>,
    nrows: Option<usize>,
    xllcorner: Option<f64>,
    xllcenter: Option<f64>,
    yllcorner: Option<f64>,
    yllcenter: Option<f64>,
    cellsize: Option<f64>,
    dx: Option<f64>,
    dy: Option<f64>,
    nodata: Option<f32>,
}

/// Reads the next line into `buf` (without the line break); false at end of file.
fn next_line(path: &Path, reader: &mut dyn BufRead, raw: &mut Vec<u8>, line_no: usize) -> Result<bool> {
    raw.clear();
    let n = reader
        .read_until(b'\n', raw)
        .map_err(|e| IoError::at(path, format!("line {line_no}"), format!("cannot read: {e}")))?;
    if n == 0 {
        return Ok(false);
    }
    while matches!(raw.last(), Some(b'\n' | b'\r')) {
        raw.pop();
    }
    Ok(true)
}

fn esri_ascii(path: &Path, mut reader: Box<dyn BufRead>, crs: Option<Crs>) -> Result<Grid> {
    let mut h = AsciiHeader::default();
    let mut raw = Vec::new();
    let mut line_no = 0usize;
    let at = |line: usize| format!("line {line}");

    // Header: `key value` lines until the first line that starts with a number.
    let first_data_line: String = loop {
        line_no += 1;
        if !next_line(path, &mut *reader, &mut raw, line_no)? {
            return Err(IoError::at(path, at(line_no), "file ends before any data row"));
        }
        let line = std::str::from_utf8(&raw).map_err(|_| IoError::at(path, at(line_no), "not text (invalid UTF-8)"))?;
        let line = line.strip_prefix('\u{feff}').unwrap_or(line);
        let mut toks = line.split_ascii_whitespace();
        let Some(key) = toks.next() else { continue };
        let lkey = key.to_ascii_lowercase();
        let known = matches!(
            lkey.as_str(),
            "ncols"
                | "nrows"
                | "xllcorner"
                | "xllcenter"
                | "yllcorner"
                | "yllcenter"
                | "cellsize"
                | "dx"
                | "dy"
                | "nodata_value"
        );
        if !known {
            if key.parse::<f32>().is_ok() {
                break line.to_string();
            }
            return Err(IoError::at(
                path,
                at(line_no),
                format!(
                    "unknown header key '{key}' (expected ncols, nrows, xllcorner|xllcenter, yllcorner|yllcenter, cellsize or dx/dy, NODATA_value)"
                ),
            ));
        }
        let (Some(val), None) = (toks.next(), toks.next()) else {
            return Err(IoError::at(
                path,
                at(line_no),
                format!("header key '{key}' must be followed by exactly one value"),
            ));
        };
        let bad = |what: &str| IoError::at(path, at(line_no), format!("{key} '{val}' is not {what}"));
        let dup = || IoError::at(path, at(line_no), format!("header key '{key}' given twice"));
        let float = |v: &str| v.parse::<f64>().ok().filter(|x| x.is_finite());
        macro_rules! set {
            ($field:ident, $value:expr) => {{
                if h.$field.is_some() {
                    return Err(dup());
                }
                h.$field = Some($value);
            }};
        }
        match lkey.as_str() {
            "ncols" => set!(
                ncols,
                val.parse::<usize>()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| bad("a positive integer"))?
            ),
            "nrows" => set!(
                nrows,
                val.parse::<usize>()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| bad("a positive integer"))?
            ),
            "xllcorner" => set!(xllcorner, float(val).ok_or_else(|| bad("a number"))?),
            "xllcenter" => set!(xllcenter, float(val).ok_or_else(|| bad("a number"))?),
            "yllcorner" => set!(yllcorner, float(val).ok_or_else(|| bad("a number"))?),
            "yllcenter" => set!(yllcenter, float(val).ok_or_else(|| bad("a number"))?),
            "cellsize" => set!(
                cellsize,
                float(val)
                    .filter(|&c| c > 0.0)
                    .ok_or_else(|| bad("a positive number"))?
            ),
            "dx" => set!(
                dx,
                float(val)
                    .filter(|&c| c > 0.0)
                    .ok_or_else(|| bad("a positive number"))?
            ),
            "dy" => set!(
                dy,
                float(val)
                    .filter(|&c| c > 0.0)
                    .ok_or_else(|| bad("a positive number"))?
            ),
            _ => set!(nodata, val.parse::<f32>().map_err(|_| bad("a number"))?),
        }
    };
    let header_end = line_no;
    let hdr_err = |msg: String| IoError::at(path, format!("header (lines 1–{})", header_end - 1), msg);
    let ncols = h.ncols.ok_or_else(|| hdr_err("missing ncols".into()))?;
    let nrows = h.nrows.ok_or_else(|| hdr_err("missing nrows".into()))?;
    let (dx, dy) = match (h.cellsize, h.dx, h.dy) {
        (Some(c), None, None) => (c, c),
        (None, Some(dx), Some(dy)) => (dx, dy),
        (None, None, None) => return Err(hdr_err("missing cellsize (or dx and dy)".into())),
        _ => return Err(hdr_err("give either cellsize or both dx and dy".into())),
    };
    let xll = match (h.xllcorner, h.xllcenter) {
        (Some(x), None) => x,
        (None, Some(x)) => x - dx / 2.0,
        (None, None) => return Err(hdr_err("missing xllcorner (or xllcenter)".into())),
        _ => {
            return Err(hdr_err("give either xllcorner or xllcenter, not both".into()));
        }
    };
    let yll = match (h.yllcorner, h.yllcenter) {
        (Some(y), None) => y,
        (None, Some(y)) => y - dy / 2.0,
        (None, None) => return Err(hdr_err("missing yllcorner (or yllcenter)".into())),
        _ => {
            return Err(hdr_err("give either yllcorner or yllcenter, not both".into()));
        }
    };
    let n = ncols
        .checked_mul(nrows)
        .filter(|&n| n <= MAX_CELLS)
        .ok_or_else(|| hdr_err(too_large(ncols, nrows)))?;
    let mut values: Vec<f32> = Vec::new();
    values
        .try_reserve_exact(n)
        .map_err(|_| hdr_err(format!("cannot allocate {ncols} × {nrows} cells")))?;

    // Data rows, one per line.
    let mut rows = 0usize;
    let mut pending = Some(first_data_line);
    loop {
        let owned;
        let line: &str = match pending.take() {
            Some(l) => {
                owned = l;
                &owned
            }
            None => {
                line_no += 1;
                if !next_line(path, &mut *reader, &mut raw, line_no)? {
                    break;
                }
                std::str::from_utf8(&raw).map_err(|_| IoError::at(path, at(line_no), "not text (invalid UTF-8)"))?
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        rows += 1;
        if rows > nrows {
            return Err(IoError::at(
                path,
                at(line_no),
                format!("more data rows than nrows = {nrows}"),
            ));
        }
        let mut k = 0usize;
        for tok in line.split_ascii_whitespace() {
            k += 1;
            if k > ncols {
                return Err(IoError::at(
                    path,
                    at(line_no),
                    format!("row {rows} has more than ncols = {ncols} values"),
                ));
            }
            let v = tok.parse::<f32>().map_err(|_| {
                IoError::at(
                    path,
                    at(line_no),
                    format!("value {k} of row {rows} ('{tok}') is not a number"),
                )
            })?;
            values.push(v);
        }
        if k < ncols {
            return Err(IoError::at(
                path,
                at(line_no),
                format!("short row: row {rows} has {k} values, expected ncols = {ncols}"),
            ));
        }
    }
    if rows < nrows {
        return Err(IoError::at(
            path,
            format!("line {line_no} (end of file)"),
            format!("{rows} data rows, expected nrows = {nrows} (file truncated?)"),
        ));
    }
    Ok(Grid {
        ncols,
        nrows,
        x0: xll,
        y0: yll + nrows as f64 * dy,
        dx,
        dy,
        values,
        nodata: h.nodata,
        crs: crs.unwrap_or(Crs::Wgs84),
    })
}

/// Surfer's blank value (values at or above it are empty).
const SURFER_BLANK: f32 = 1.70141e38;

fn surfer_binary(path: &Path, mut reader: Box<dyn BufRead>, crs: Option<Crs>) -> Result<Grid> {
    let mut head = [0u8; 56];
    reader
        .read_exact(&mut head)
        .map_err(|e| IoError::at(path, "byte 0", format!("Surfer 6 header (56 bytes) unreadable: {e}")))?;
    if &head[0..4] != b"DSBB" {
        return Err(IoError::at(
            path,
            "byte 0",
            "not a Surfer 6 binary grid (no 'DSBB' magic)",
        ));
    }
    let nx = i16::from_le_bytes([head[4], head[5]]);
    let ny = i16::from_le_bytes([head[6], head[7]]);
    let f = |k: usize| {
        let o = 8 + 8 * k;
        let mut b = [0u8; 8];
        b.copy_from_slice(&head[o..o + 8]);
        f64::from_le_bytes(b)
    };
    let (xlo, xhi, ylo, yhi, zlo, zhi) = (f(0), f(1), f(2), f(3), f(4), f(5));
    if nx < 2 || ny < 2 {
        return Err(IoError::at(
            path,
            "byte 4",
            format!("grid of {nx} × {ny} nodes: need at least 2 × 2"),
        ));
    }
    if !(xlo.is_finite() && xhi.is_finite() && ylo.is_finite() && yhi.is_finite()) || xhi <= xlo || yhi <= ylo {
        return Err(IoError::at(
            path,
            "byte 8",
            format!("bad extent x {xlo}…{xhi}, y {ylo}…{yhi} (need finite, increasing)"),
        ));
    }
    let (ncols, nrows) = (nx as usize, ny as usize);
    let n = ncols * nrows;
    let mut bytes = Vec::new();
    reader
        .take(4 * n as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| IoError::at(path, "byte 56", format!("cannot read the values: {e}")))?;
    if bytes.len() < 4 * n {
        return Err(IoError::at(
            path,
            format!("byte {}", 56 + bytes.len()),
            format!("file ends after {} of {n} values (truncated)", bytes.len() / 4),
        ));
    }
    if bytes.len() > 4 * n {
        return Err(IoError::at(
            path,
            format!("byte {}", 56 + 4 * n),
            format!("unexpected data after the {nx} × {ny} values"),
        ));
    }
    let dx = (xhi - xlo) / (ncols - 1) as f64;
    let dy = (yhi - ylo) / (nrows - 1) as f64;
    let mut values = Vec::with_capacity(n);
    // Stored south to north; the grid is north-up.
    for r in (0..nrows).rev() {
        let row = &bytes[4 * r * ncols..4 * (r + 1) * ncols];
        values.extend(
            row.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        );
    }
    // A single marker outside the header's z range is the producer's nodata.
    let tol = 1e-6 * (zhi - zlo).abs().max(1.0);
    let mut marker: Option<f32> = None;
    let mut single = true;
    let mut blanks = false;
    for &v in &values {
        if v >= SURFER_BLANK {
            blanks = true;
        } else if zlo.is_finite() && zhi.is_finite() && ((v as f64) < zlo - tol || (v as f64) > zhi + tol) {
            match marker {
                None => marker = Some(v),
                Some(m) if m == v => {}
                Some(_) => single = false,
            }
        }
    }
    let nodata = match marker {
        Some(m) if single && !m.is_nan() => {
            if blanks {
                values.iter_mut().filter(|v| **v >= SURFER_BLANK).for_each(|v| *v = m);
            }
            m
        }
        _ => SURFER_BLANK,
    };
    Ok(Grid {
        ncols,
        nrows,
        x0: xlo - dx / 2.0,
        y0: yhi + dy / 2.0,
        dx,
        dy,
        values,
        nodata: Some(nodata),
        crs: crs.unwrap_or(Crs::Wgs84),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared_data;
    use renxing_geo::zonal;
    use std::io::Write;
    use tiff::encoder::{TiffEncoder, colortype};

    fn data_cells(g: &Grid) -> usize {
        g.values.iter().filter(|v| g.is_data(**v)).count()
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    // ---- real data --------------------------------------------------------------------------

    #[test]
    fn wuhan_worldpop_geotiff() {
        let Some(p) = shared_data::file("cn/wuhan/wuhan_pop_age20plus_sum.tif") else {
            return;
        };
        let g = read_grid(&p, None).unwrap();
        // Dimensions and tags as listed by Python tifffile 2026.3.3 (Deflate + float predictor).
        assert_eq!((g.ncols, g.nrows), (1662, 1668));
        assert_eq!(g.crs, Crs::Wgs84);
        assert_eq!(g.nodata, Some(-9999.0));
        assert!(close(g.x0, 113.692082892822, 1e-12) && close(g.y0, 31.3620834098597, 1e-12));
        assert!(close(g.dx, 0.0008333333299933837, 1e-15) && close(g.dy, 0.0008333333300101321, 1e-15));
        // Reference, computed with tifffile + numpy (math.fsum over the float32 data cells):
        // 494,676 data cells (all > 0; 2,277,540 cells are −9999), total 9,491,334.359614372
        // (the data README's "9.49 M").
        assert_eq!(data_cells(&g), 494_676);
        assert_eq!(g.positive_cells().count(), 494_676);
        assert!(close(g.total(), 9_491_334.359614372, 1e-3), "{}", g.total());
    }

    #[test]
    fn swiss_population_density_geotiff() {
        let Some(p) = shared_data::file("hazard/population-density_median.tif") else {
            return;
        };
        let g = read_grid(&p, None).unwrap();
        // tifffile: 372 × 166 float32, uncompressed strips, EPSG:4326, no GDAL_NODATA tag.
        assert_eq!((g.ncols, g.nrows), (372, 166));
        assert_eq!(g.crs, Crs::Wgs84);
        assert_eq!(g.nodata, None);
        assert!(close(g.x0, 6.718500009929902, 1e-12) && close(g.y0, 47.886492850559335, 1e-12));
        assert!(close(g.dx, 0.008084837557075694, 1e-15));
        // numpy reference: 61,752 cells, 59,854 positive, fsum 14,831,221.40075183.
        assert_eq!(data_cells(&g), 61_752);
        assert_eq!(g.positive_cells().count(), 59_854);
        assert!(close(g.total(), 14_831_221.40075183, 1e-3), "{}", g.total());
        // First cell value (tifffile: 128.06935).
        assert!(close(g.get(0, 0) as f64, 128.06935, 1e-4));
        // Overriding the CRS wins over the file's GeoKeys.
        assert_eq!(read_grid(&p, Some(Crs::Cgcs2000)).unwrap().crs, Crs::Cgcs2000);
    }

    #[test]
    fn hanriver_dem_ascii() {
        let Some(p) = shared_data::file("cn/wuhan/dem_hanriver_srtm.asc") else {
            return;
        };
        let g = read_grid(&p, Some(Crs::Epsg(3857))).unwrap();
        // Header: ncols 241, nrows 181, xllcorner 12693529.787448272109,
        // yllcorner 3542525.717859967612, cellsize 155.156523374016, NODATA_value -999999999.
        assert_eq!((g.ncols, g.nrows), (241, 181));
        assert_eq!(g.crs, Crs::Epsg(3857));
        assert!(close(g.x0, 12693529.787448272, 1e-6));
        assert!(close(g.y0, 3_542_525.717_859_967_6 + 181.0 * 155.156523374016, 1e-6));
        assert_eq!((g.dx, g.dy), (155.156523374016, 155.156523374016));
        assert_eq!(g.nodata, Some(-999_999_999.0));
        // Python reference (plain text parsing + numpy): all 43,621 cells hold data,
        // min 19, max 255, sum 6,952,273; first value 107, last 190.
        assert_eq!(data_cells(&g), 43_621);
        assert_eq!(g.total(), 6_952_273.0);
        let min = g.values.iter().cloned().fold(f32::INFINITY, f32::min);
        let max = g.values.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        assert_eq!((min, max), (19.0, 255.0));
        assert_eq!((g.get(0, 0), g.get(180, 240)), (107.0, 190.0));
        // No CRS given: WGS84 by convention.
        assert_eq!(read_grid(&p, None).unwrap().crs, Crs::Wgs84);
    }

    #[test]
    fn venezuela_flood_surfer_grid() {
        let Some(p) = shared_data::file("hazard/SC22000_VE__M1.grd.gz") else {
            return;
        };
        let g = read_grid(&p, None).unwrap();
        // Header (Python struct): DSBB, 962 × 1073 nodes, x −69.3326495969998…−60.68364959699947,
        // y 0.7757209669785734…10.423720966978939, z 0…4.662774085998535; values outside that z
        // range are all −9999 (143,263 cells).
        assert_eq!((g.ncols, g.nrows), (962, 1073));
        assert_eq!(g.nodata, Some(-9999.0));
        assert_eq!(g.crs, Crs::Wgs84);
        assert!(close(g.dx, 0.009, 1e-12) && close(g.dy, 0.009, 1e-12));
        assert!(close(g.x0, -69.3326495969998 - 0.0045, 1e-9));
        assert!(close(g.y0, 10.423720966978939 + 0.0045, 1e-9));
        // numpy reference: 888,963 data cells, 18,408 wet (> 0), fsum 10,044.061758771539,
        // max 4.662774 at row 802 from the south (= 1072 − 802 = 270 from the north), col 532.
        assert_eq!(data_cells(&g), 888_963);
        assert_eq!(g.positive_cells().count(), 18_408);
        assert!(close(g.total(), 10_044.061758771539, 1e-6), "{}", g.total());
        assert!(close(g.get(270, 532) as f64, 4.662774085998535, 1e-6));
    }

    /// The Wuhan boundary as a multipolygon (first feature, a GeoJSON Polygon).
    fn wuhan_boundary(path: &Path) -> geo_types::MultiPolygon<f64> {
        let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let geom = &json["features"][0]["geometry"];
        assert_eq!(geom["type"], "Polygon");
        let rings: Vec<geo_types::LineString<f64>> = geom["coordinates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|c| (c[0].as_f64().unwrap(), c[1].as_f64().unwrap()))
                    .collect::<Vec<_>>()
                    .into()
            })
            .collect();
        let mut it = rings.into_iter();
        let outer = it.next().unwrap();
        geo_types::MultiPolygon(vec![geo_types::Polygon::new(outer, it.collect())])
    }

    #[test]
    fn wuhan_population_inside_the_boundary() {
        let Some(tif) = shared_data::file("cn/wuhan/wuhan_pop_age20plus_sum.tif") else {
            return;
        };
        let Some(bnd) = shared_data::file("cn/wuhan/wuhan-boundary.geojson") else {
            return;
        };
        let zones = vec![wuhan_boundary(&bnd)];
        let t0 = std::time::Instant::now();
        let g = read_grid(&tif, None).unwrap();
        let t1 = std::time::Instant::now();
        let sums = zonal::zonal_sums(&g, &zones);
        let t2 = std::time::Instant::now();
        // Reference with shapely 2 / GEOS `contains_xy` on every data-cell centre: all
        // 494,676 data cells lie inside (the raster was clipped to this boundary), sum
        // 9,491,334.359614372, nothing outside.
        assert_eq!(sums.cells, vec![494_676]);
        assert!(close(sums.sums[0], 9_491_334.359614372, 1e-3), "{}", sums.sums[0]);
        assert_eq!((sums.outside_cells, sums.outside_sum), (0, 0.0));
        assert!(close(sums.sums[0], g.total(), 1e-6));
        // Same reference: 1,164,645 of all 2,772,216 cell centres lie inside.
        let a = zonal::assign_cells(&g, &zones);
        assert_eq!(a.assigned_cells(), 1_164_645);
        let cells = g.values.len() as f64;
        let (read, zonal_t) = ((t1 - t0).as_secs_f64(), (t2 - t1).as_secs_f64());
        eprintln!(
            "wuhan: {} cells; read {:.3} s ({:.1} M cells/s), zonal sums {:.3} s ({:.1} M cells/s), together {:.1} M cells/s",
            g.values.len(),
            read,
            cells / read / 1e6,
            zonal_t,
            cells / zonal_t / 1e6,
            cells / (read + zonal_t) / 1e6
        );
    }

    // ---- synthetic GeoTIFFs -------------------------------------------------------------------

    fn geokeys_dir(keys: &[(u16, u16)]) -> Vec<u16> {
        let mut v = vec![1, 1, 0, keys.len() as u16];
        for &(k, val) in keys {
            v.extend([k, 0, 1, val]);
        }
        v
    }

    /// Writes a one-band GeoTIFF with the tiff crate's encoder and the given geo tags.
    #[allow(clippy::too_many_arguments)]
    fn write_tiff<C: colortype::ColorType>(
        path: &Path,
        w: u32,
        h: u32,
        data: &[C::Inner],
        scale_tie: Option<([f64; 3], [f64; 6])>,
        matrix: Option<[f64; 16]>,
        keys: &[(u16, u16)],
        nodata: Option<&str>,
    ) where
        [C::Inner]: tiff::encoder::TiffValue,
    {
        let mut file = File::create(path).unwrap();
        let mut enc = TiffEncoder::new(&mut file).unwrap();
        let mut img = enc.new_image::<C>(w, h).unwrap();
        if let Some((s, t)) = scale_tie {
            img.encoder().write_tag(Tag::ModelPixelScaleTag, &s[..]).unwrap();
            img.encoder().write_tag(Tag::ModelTiepointTag, &t[..]).unwrap();
        }
        if let Some(m) = matrix {
            img.encoder().write_tag(Tag::ModelTransformationTag, &m[..]).unwrap();
        }
        if !keys.is_empty() {
            img.encoder()
                .write_tag(Tag::GeoKeyDirectoryTag, &geokeys_dir(keys)[..])
                .unwrap();
        }
        if let Some(nd) = nodata {
            img.encoder().write_tag(Tag::GdalNodata, nd).unwrap();
        }
        img.write_data(data).unwrap();
    }

    #[test]
    fn geotiff_without_georeference_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("plain.tif");
        write_tiff::<colortype::Gray32Float>(&p, 3, 2, &[1.0; 6], None, None, &[], None);
        let e = read_grid(&p, None).unwrap_err();
        assert_eq!(e.path, p);
        assert_eq!(
            e.to_string(),
            format!(
                "{}: no georeference (ModelPixelScale/ModelTiepoint or ModelTransformation tags missing)",
                p.display()
            )
        );
    }

    #[test]
    fn multiband_geotiff_is_refused_with_its_band_count() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rgb.tif");
        let mut file = File::create(&p).unwrap();
        TiffEncoder::new(&mut file)
            .unwrap()
            .write_image::<colortype::RGB8>(2, 2, &[0u8; 12])
            .unwrap();
        let e = read_grid(&p, None).unwrap_err().to_string();
        assert!(e.contains("has 3 bands"), "{e}");
    }

    #[test]
    fn integer_sample_types_crs_codes_and_nodata() {
        let dir = tempfile::tempdir().unwrap();
        let st = Some(([0.5, 0.25, 0.0], [0.0, 0.0, 0.0, 100.0, 40.0, 0.0]));
        let geo4326 = [(1024, 2), (1025, 1), (2048, 4326)];
        let p = dir.path().join("u8.tif");
        write_tiff::<colortype::Gray8>(&p, 3, 2, &[0, 1, 2, 253, 254, 255], st, None, &geo4326, Some("255"));
        let g = read_grid(&p, None).unwrap();
        assert_eq!(g.values, vec![0.0, 1.0, 2.0, 253.0, 254.0, 255.0]);
        assert_eq!((g.nodata, g.crs), (Some(255.0), Crs::Wgs84));
        assert_eq!((g.x0, g.y0, g.dx, g.dy), (100.0, 40.0, 0.5, 0.25));
        assert_eq!(g.total(), 510.0);

        let p = dir.path().join("i8.tif");
        write_tiff::<colortype::GrayI8>(&p, 2, 1, &[-128, 127], st, None, &[(1024, 2), (2048, 4490)], None);
        let g = read_grid(&p, None).unwrap();
        assert_eq!((g.values.clone(), g.crs), (vec![-128.0, 127.0], Crs::Cgcs2000));

        let p = dir.path().join("u16.tif");
        write_tiff::<colortype::Gray16>(&p, 2, 1, &[0, 65535], st, None, &geo4326, None);
        assert_eq!(read_grid(&p, None).unwrap().values, vec![0.0, 65535.0]);

        let p = dir.path().join("i16.tif");
        write_tiff::<colortype::GrayI16>(&p, 2, 1, &[-32768, 32767], st, None, &geo4326, Some("-32768 "));
        let g = read_grid(&p, None).unwrap();
        assert_eq!((g.values.clone(), g.nodata), (vec![-32768.0, 32767.0], Some(-32768.0)));

        let p = dir.path().join("u32.tif");
        write_tiff::<colortype::Gray32>(&p, 2, 1, &[7, 16_777_216], st, None, &geo4326, None);
        assert_eq!(read_grid(&p, None).unwrap().values, vec![7.0, 16_777_216.0]);

        let p = dir.path().join("i32.tif");
        write_tiff::<colortype::GrayI32>(&p, 2, 1, &[-5, 1_000_000], st, None, &geo4326, None);
        assert_eq!(read_grid(&p, None).unwrap().values, vec![-5.0, 1_000_000.0]);

        let p = dir.path().join("f64.tif");
        write_tiff::<colortype::Gray64Float>(&p, 2, 1, &[0.125, -1e300], st, None, &geo4326, Some("nan"));
        let g = read_grid(&p, None).unwrap();
        assert_eq!((g.values[0], g.values[1], g.nodata), (0.125, f32::NEG_INFINITY, None));

        // A projected CRS (UTM 50N): taken from ProjectedCSTypeGeoKey, not the geographic key.
        let p = dir.path().join("utm.tif");
        let utm = Some(([30.0, 30.0, 0.0], [0.0, 0.0, 0.0, 500_000.0, 3_400_000.0, 0.0]));
        write_tiff::<colortype::Gray32Float>(
            &p,
            2,
            2,
            &[1.0; 4],
            utm,
            None,
            &[(1024, 1), (2048, 4326), (3072, 32650)],
            None,
        );
        assert_eq!(read_grid(&p, None).unwrap().crs, Crs::Epsg(32650));
        // Projected but user-defined (32767) with no override: refused; with one: accepted.
        write_tiff::<colortype::Gray32Float>(&p, 2, 2, &[1.0; 4], utm, None, &[(1024, 1), (3072, 32767)], None);
        let e = read_grid(&p, None).unwrap_err().to_string();
        assert!(e.contains("pass its CRS"), "{e}");
        assert_eq!(read_grid(&p, Some(Crs::Epsg(4547))).unwrap().crs, Crs::Epsg(4547));
        // No GeoKeys at all and a lon/lat extent: WGS84.
        write_tiff::<colortype::Gray32Float>(&p, 2, 2, &[1.0; 4], st, None, &[], None);
        assert_eq!(read_grid(&p, None).unwrap().crs, Crs::Wgs84);
    }

    #[test]
    fn pixel_is_point_transformation_and_south_up() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.tif");
        let data = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]; // 3 × 2
        // ModelTransformation, PixelIsArea: corner at (10, 20), 2 × 0.5 cells.
        let m = [
            2.0, 0.0, 0.0, 10.0, 0.0, -0.5, 0.0, 20.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0,
        ];
        write_tiff::<colortype::Gray32Float>(&p, 3, 2, &data, None, Some(m), &[(1025, 1), (2048, 4326)], None);
        let g = read_grid(&p, None).unwrap();
        assert_eq!((g.x0, g.y0, g.dx, g.dy), (10.0, 20.0, 2.0, 0.5));
        assert_eq!(g.values, data.to_vec());
        // Same, PixelIsPoint: (10, 20) is the centre of the first pixel → corner half a cell
        // west and north.
        write_tiff::<colortype::Gray32Float>(&p, 3, 2, &data, None, Some(m), &[(1025, 2), (2048, 4326)], None);
        let g = read_grid(&p, None).unwrap();
        assert_eq!((g.x0, g.y0), (9.0, 20.25));
        assert_eq!(g.cell_centre(0, 0), (10.0, 20.0));
        // PixelIsPoint with scale + tie point at pixel (1, 1) = (12, 19.5).
        let st = Some(([2.0, 0.5, 0.0], [1.0, 1.0, 0.0, 12.0, 19.5, 0.0]));
        write_tiff::<colortype::Gray32Float>(&p, 3, 2, &data, st, None, &[(1025, 2), (2048, 4326)], None);
        let g = read_grid(&p, None).unwrap();
        assert_eq!(g.cell_centre(1, 1), (12.0, 19.5));
        assert_eq!((g.x0, g.y0), (9.0, 20.25));
        // Rotation refused.
        let mut rot = m;
        rot[1] = 0.1;
        write_tiff::<colortype::Gray32Float>(&p, 3, 2, &data, None, Some(rot), &[(2048, 4326)], None);
        let e = read_grid(&p, None).unwrap_err().to_string();
        assert!(
            e.contains("ModelTransformation (34264)") && e.contains("rotated"),
            "{e}"
        );
        // South-up (negative y scale): row 0 of the file is the southern row; flipped.
        let st = Some(([2.0, -0.5, 0.0], [0.0, 0.0, 0.0, 10.0, 19.0, 0.0]));
        write_tiff::<colortype::Gray32Float>(&p, 3, 2, &data, st, None, &[(2048, 4326)], None);
        let g = read_grid(&p, None).unwrap();
        assert_eq!((g.x0, g.y0, g.dy), (10.0, 20.0, 0.5));
        assert_eq!(g.values, vec![4.0, 5.0, 6.0, 1.0, 2.0, 3.0]);
    }

    /// A little-endian tiled, uncompressed float32 GeoTIFF, written by hand (the encoder only
    /// writes strips). Tiles are 16 × 16, padded with −1.
    fn tiled_tiff(w: u32, h: u32, value: impl Fn(u32, u32) -> f32) -> Vec<u8> {
        let (tw, th) = (16u32, 16u32);
        let (across, down) = (w.div_ceil(tw), h.div_ceil(th));
        let mut data = Vec::new();
        let mut offsets = Vec::new();
        for ty in 0..down {
            for tx in 0..across {
                offsets.push(8 + data.len() as u32);
                for r in 0..th {
                    for c in 0..tw {
                        let (row, col) = (ty * th + r, tx * tw + c);
                        let v = if row < h && col < w { value(row, col) } else { -1.0 };
                        data.extend(v.to_le_bytes());
                    }
                }
            }
        }
        let tile_bytes = vec![tw * th * 4; offsets.len()];
        // (tag, type, count, payload): types 2 ASCII, 3 SHORT, 4 LONG, 12 DOUBLE.
        let le16 = |v: &[u16]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let le32 = |v: &[u32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let le64 = |v: &[f64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let geo = geokeys_dir(&[(1024, 2), (1025, 1), (2048, 4326)]);
        let entries: Vec<(u16, u16, u32, Vec<u8>)> = vec![
            (256, 4, 1, le32(&[w])),
            (257, 4, 1, le32(&[h])),
            (258, 3, 1, le16(&[32])),
            (259, 3, 1, le16(&[1])),
            (262, 3, 1, le16(&[1])),
            (277, 3, 1, le16(&[1])),
            (322, 4, 1, le32(&[tw])),
            (323, 4, 1, le32(&[th])),
            (324, 4, offsets.len() as u32, le32(&offsets)),
            (325, 4, tile_bytes.len() as u32, le32(&tile_bytes)),
            (339, 3, 1, le16(&[3])),
            (33550, 12, 3, le64(&[0.1, 0.1, 0.0])),
            (33922, 12, 6, le64(&[0.0, 0.0, 0.0, 114.0, 31.0, 0.0])),
            (34735, 3, geo.len() as u32, le16(&geo)),
            (42113, 2, 6, b"-9999\0".to_vec()),
        ];
        let mut out = Vec::new();
        out.extend(b"II");
        out.extend(42u16.to_le_bytes());
        let extra_start = 8 + data.len();
        // Out-of-line payloads follow the tiles; the IFD follows them.
        let mut extra = Vec::new();
        let mut fields = Vec::new();
        for (tag, ty, count, payload) in &entries {
            let inline = if payload.len() <= 4 {
                let mut b = payload.clone();
                b.resize(4, 0);
                b
            } else {
                let off = (extra_start + extra.len()) as u32;
                extra.extend(payload);
                if extra.len() % 2 == 1 {
                    extra.push(0);
                }
                off.to_le_bytes().to_vec()
            };
            fields.push((*tag, *ty, *count, inline));
        }
        let ifd = (extra_start + extra.len()) as u32;
        out.extend(ifd.to_le_bytes());
        out.extend(&data);
        out.extend(&extra);
        out.extend((fields.len() as u16).to_le_bytes());
        for (tag, ty, count, inline) in fields {
            out.extend(tag.to_le_bytes());
            out.extend(ty.to_le_bytes());
            out.extend(count.to_le_bytes());
            out.extend(inline);
        }
        out.extend(0u32.to_le_bytes());
        out
    }

    #[test]
    fn tiled_geotiff_is_assembled() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tiled.tiff");
        let (w, h) = (37u32, 21u32); // 3 × 2 tiles, the last column and row padded
        std::fs::write(&p, tiled_tiff(w, h, |r, c| (r * 100 + c) as f32)).unwrap();
        let g = read_grid(&p, None).unwrap();
        assert_eq!((g.ncols, g.nrows), (37, 21));
        assert_eq!((g.x0, g.y0, g.nodata, g.crs), (114.0, 31.0, Some(-9999.0), Crs::Wgs84));
        for r in 0..21 {
            for c in 0..37 {
                assert_eq!(g.get(r, c), (r * 100 + c) as f32, "cell ({r}, {c})");
            }
        }
    }

    #[test]
    fn truncated_geotiff_names_the_strip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("cut.tif");
        // The real WorldPop file keeps its IFD at byte 8, before the strips: cut at half, the
        // tags still read and the first missing strip is reported.
        if let Some(real) = shared_data::file("cn/wuhan/wuhan_pop_age20plus_sum.tif") {
            let bytes = std::fs::read(real).unwrap();
            std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
            let e = read_grid(&p, None).unwrap_err().to_string();
            assert!(e.contains(": strip ") && e.contains("cannot decode"), "{e}");
        }
        // The hand-made tiled file has its IFD at the end: cut, it is not a TIFF any more.
        let bytes = tiled_tiff(40, 40, |r, c| (r + c) as f32);
        std::fs::write(&p, &bytes[..bytes.len() / 3]).unwrap();
        assert!(
            read_grid(&p, None)
                .unwrap_err()
                .to_string()
                .contains("not a readable TIFF")
        );
        std::fs::write(&p, b"").unwrap();
        assert!(
            read_grid(&p, None)
                .unwrap_err()
                .to_string()
                .contains("not a readable TIFF")
        );
        std::fs::write(&p, b"ncols 1\n").unwrap();
        assert!(read_grid(&p, None).is_err());
    }

    // ---- ASCII grids ------------------------------------------------------------------------

    #[test]
    fn ascii_header_variants_and_gzip() {
        let dir = tempfile::tempdir().unwrap();
        // Keys in another order and case, centre-registered, dx/dy, CRLF line ends.
        let text = "NROWS 2\r\nXLLCENTER 100.5\r\nncols 3\r\nYllCenter 30.25\r\ndx 1\r\ndy 0.5\r\n\
                    nodata_value -1\r\n1 2 3\r\n\r\n4 -1 6\r\n";
        let p = dir.path().join("a.asc");
        std::fs::write(&p, text).unwrap();
        let g = read_grid(&p, Some(Crs::Epsg(4547))).unwrap();
        assert_eq!((g.ncols, g.nrows, g.dx, g.dy), (3, 2, 1.0, 0.5));
        // Lower-left centre (100.5, 30.25) → corner (100, 30); top edge 30 + 2·0.5 = 31.
        assert_eq!((g.x0, g.y0), (100.0, 31.0));
        assert_eq!(g.values, vec![1.0, 2.0, 3.0, 4.0, -1.0, 6.0]);
        assert_eq!((g.nodata, g.crs), (Some(-1.0), Crs::Epsg(4547)));
        assert_eq!(g.total(), 16.0);
        // The same, gzip-compressed, as .asc.gz and as .grd.gz.
        for name in ["a.asc.gz", "a.grd.gz"] {
            let pz = dir.path().join(name);
            let mut gz = flate2::write::GzEncoder::new(File::create(&pz).unwrap(), flate2::Compression::default());
            gz.write_all(text.as_bytes()).unwrap();
            gz.finish().unwrap();
            let gz_grid = read_grid(&pz, Some(Crs::Epsg(4547))).unwrap();
            assert_eq!(gz_grid, g);
        }
    }

    fn ascii_error(text: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.asc");
        std::fs::write(&p, text).unwrap();
        let e = read_grid(&p, None).unwrap_err();
        assert_eq!(e.path, p);
        e.to_string()
    }

    #[test]
    fn ascii_errors_name_the_line() {
        let hdr = "ncols 3\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 1\n";
        let e = ascii_error(&format!("{hdr}1 2 3\n4 5\n"));
        assert!(
            e.contains("line 7: short row: row 2 has 2 values, expected ncols = 3"),
            "{e}"
        );
        let e = ascii_error(&format!("{hdr}1 2 3\n4 x 6\n"));
        assert!(e.contains("line 7: value 2 of row 2 ('x') is not a number"), "{e}");
        let e = ascii_error(&format!("{hdr}1 2 3\n"));
        assert!(
            e.contains("line 7 (end of file): 1 data rows, expected nrows = 2"),
            "{e}"
        );
        let e = ascii_error(&format!("{hdr}1 2 3\n4 5 6\n7 8 9\n"));
        assert!(e.contains("line 8: more data rows than nrows = 2"), "{e}");
        let e = ascii_error(&format!("{hdr}1 2 3 4\n"));
        assert!(e.contains("line 6: row 1 has more than ncols = 3 values"), "{e}");
        let e = ascii_error("ncols 3\nnrows 2\nxllcorner 0\ncellsize 1\n1 2 3\n");
        assert!(e.contains("missing yllcorner"), "{e}");
        let e = ascii_error("ncols 3\nnrows two\n");
        assert!(e.contains("line 2: nrows 'two' is not a positive integer"), "{e}");
        let e = ascii_error("ncols 3\nbands 2\n");
        assert!(e.contains("line 2: unknown header key 'bands'"), "{e}");
        let e = ascii_error("ncols 3\nncols 3\n");
        assert!(e.contains("line 2: header key 'ncols' given twice"), "{e}");
        let e = ascii_error("ncols 3\nnrows 2\n");
        assert!(e.contains("line 3: file ends before any data row"), "{e}");
        let e = ascii_error("ncols 100000\nnrows 100000\nxllcorner 0\nyllcorner 0\ncellsize 1\n1\n");
        assert!(
            e.contains("header (lines 1–5): 100000 × 100000 cells exceeds the limit"),
            "{e}"
        );
        // A byte-order mark before the first key is tolerated.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bom.asc");
        std::fs::write(
            &p,
            "\u{feff}ncols 1\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n5\n",
        )
        .unwrap();
        assert_eq!(read_grid(&p, None).unwrap().values, vec![5.0]);
    }

    #[test]
    fn truncated_real_ascii_grid_names_the_cut_line() {
        let Some(p) = shared_data::file("cn/wuhan/dem_hanriver_srtm.asc") else {
            return;
        };
        let text = std::fs::read_to_string(&p).unwrap();
        // Cut in the middle of the data: the header has 6 lines, so the k-th data line is line
        // 6 + k. Cut after 100 full data lines plus the start of the next.
        let lines: Vec<&str> = text.lines().collect();
        let mut cut = lines[..106].join("\n");
        cut.push('\n');
        cut.push_str(&lines[106][..40]);
        let e = ascii_error(&cut);
        assert!(e.contains("line 107: short row: row 101 has"), "{e}");
        // Cut at a line end: the row count is wrong.
        let e = ascii_error(&(lines[..106].join("\n") + "\n"));
        assert!(e.contains("100 data rows, expected nrows = 181"), "{e}");
        // A truncated gzip stream is reported too.
        let dir = tempfile::tempdir().unwrap();
        let pz = dir.path().join("dem.asc.gz");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(text.as_bytes()).unwrap();
        let z = gz.finish().unwrap();
        std::fs::write(&pz, &z[..z.len() / 2]).unwrap();
        assert!(read_grid(&pz, None).is_err());
    }

    #[test]
    fn surfer_errors_and_unknown_extensions() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.grd");
        // 3 × 2 nodes, truncated after 4 values.
        let mut b = b"DSBB".to_vec();
        b.extend(3i16.to_le_bytes());
        b.extend(2i16.to_le_bytes());
        for v in [0.0f64, 2.0, 0.0, 1.0, 0.0, 5.0] {
            b.extend(v.to_le_bytes());
        }
        for v in [1.0f32, 2.0, 3.0, 4.0] {
            b.extend(v.to_le_bytes());
        }
        std::fs::write(&p, &b).unwrap();
        let e = read_grid(&p, None).unwrap_err().to_string();
        assert!(e.contains("byte 72: file ends after 4 of 6 values"), "{e}");
        // Completed, with a Surfer blank: south row first.
        for v in [5.0f32, 1.70141e38] {
            b.extend(v.to_le_bytes());
        }
        std::fs::write(&p, &b).unwrap();
        let g = read_grid(&p, None).unwrap();
        assert_eq!((g.x0, g.y0, g.dx, g.dy), (-0.5, 1.5, 1.0, 1.0));
        assert_eq!(g.values, vec![4.0, 5.0, 1.70141e38, 1.0, 2.0, 3.0]);
        assert_eq!(g.nodata, Some(SURFER_BLANK));
        assert_eq!(g.total(), 15.0);
        std::fs::write(&p, b"DSRB....").unwrap();
        assert!(read_grid(&p, None).unwrap_err().to_string().contains("Surfer 7"));
        let e = read_grid(&dir.path().join("x.png"), None).unwrap_err().to_string();
        assert!(e.contains("unknown raster format"), "{e}");
        let e = read_grid(&dir.path().join("missing.asc"), None).unwrap_err();
        assert!(e.to_string().contains("missing.asc"));
    }
}
