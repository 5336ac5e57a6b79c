//! The run settings that say where a run computes, `backend` and `device`: the sweep-wide
//! ones (`Placement`), the check of a value written for a run, and each run's resolved pair,
//! checked against each other and the sweep's `gpus`. `expand` calls these per run.

use model::Backend;
use serde_json::Value;
use serde_saphyr::Location;

use super::raw::Scalar;
use crate::workers::placement::DeviceRequest;

/// Keys that say where a run computes rather than what it trains.
pub const PLACEMENT_KEYS: [&str; 2] = ["backend", "device"];

/// The sweep-level `backend`, `device` and `gpus`, with where the file sets them.
#[derive(Clone)]
pub struct Placement {
    pub backend: (Backend, Option<Location>),
    pub device: Option<(DeviceRequest, Location)>,
    pub gpus: Option<(Vec<usize>, Location)>,
}

/// `None` when `value` names a backend (`key` = `backend`) or a device, else why not.
pub fn value_error(key: &str, value: &Scalar) -> Option<String> {
    let Scalar::Text(text) = value else {
        return Some(format!("{value}: expected a name"));
    };
    match key {
        "backend" => text.parse::<Backend>().err(),
        _ => text.parse::<DeviceRequest>().err(),
    }
}

/// A run's backend and device: its own (`assigned`), else the sweep's, else the defaults,
/// checked against each other and the sweep's `gpus`; or where and what is wrong.
pub fn place(
    assigned: &[(String, Value)],
    located: &dyn Fn(&str) -> Option<Location>,
    placement: &Placement,
) -> Result<(Backend, DeviceRequest), (Option<Location>, &'static str, String)> {
    let text = |key: &str| assigned.iter().find(|(k, _)| k == key).and_then(|(_, v)| v.as_str());
    let (backend, backend_at) = match text("backend") {
        Some(name) => (
            name.parse().map_err(|e| (located("backend"), "backend", e))?,
            located("backend"),
        ),
        None => placement.backend,
    };
    let (device, device_at) = match (text("device"), placement.device) {
        (Some(name), _) => (
            name.parse().map_err(|e| (located("device"), "device", e))?,
            located("device"),
        ),
        (None, Some((device, at))) => (device, Some(at)),
        (None, None) => (DeviceRequest::default_for(backend), backend_at),
    };
    // A mismatch is the device's fault where the file names one, else the backend's.
    let (key, at) = if device_at.is_some() {
        ("device", device_at)
    } else {
        ("backend", backend_at)
    };
    device.suits(backend).map_err(|err| (at, key, err.to_string()))?;
    if let (DeviceRequest::Gpu(index), Some((gpus, _))) = (device, &placement.gpus)
        && !gpus.contains(&index)
    {
        let message = format!("GPU {index} is not in `gpus`; add it there, or use `cuda` for any of them");
        return Err((at, "device", message));
    }
    backend
        .built()
        .map_err(|err| (backend_at.or(at), "backend", err.to_string()))?;
    Ok((backend, device))
}
