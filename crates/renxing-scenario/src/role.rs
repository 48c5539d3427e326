//! Emergency roles a routine facility can take once converted.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// One emergency function of a converted facility.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 紧急避难场所: open space people reach on foot within minutes and stay in for hours.
    EmergencyShelter,
    /// 固定避难场所: tents and services for days to weeks.
    FixedShelter,
    /// Indoor halls and classrooms used as shelter.
    IndoorShelter,
    /// 方舱 field-hospital beds.
    FieldHospital,
    /// 集中隔离点 single rooms.
    IsolationRoom,
    /// Convertible hospital beds.
    SurgeBeds,
    /// First-aid / medical points.
    MedicalPoint,
    /// Emergency supply distribution (people served).
    SupplyPoint,
    /// 人防 air-raid shelter places.
    AirRaidShelter,
    /// Safe open space receiving an evacuated crowd (venues, scenic areas).
    CrowdRefuge,
    /// Beds for stranded visitors.
    Lodging,
}

impl Role {
    pub const ALL: [Role; 11] = [
        Role::EmergencyShelter,
        Role::FixedShelter,
        Role::IndoorShelter,
        Role::FieldHospital,
        Role::IsolationRoom,
        Role::SurgeBeds,
        Role::MedicalPoint,
        Role::SupplyPoint,
        Role::AirRaidShelter,
        Role::CrowdRefuge,
        Role::Lodging,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::EmergencyShelter => "emergency_shelter",
            Role::FixedShelter => "fixed_shelter",
            Role::IndoorShelter => "indoor_shelter",
            Role::FieldHospital => "field_hospital",
            Role::IsolationRoom => "isolation_room",
            Role::SurgeBeds => "surge_beds",
            Role::MedicalPoint => "medical_point",
            Role::SupplyPoint => "supply_point",
            Role::AirRaidShelter => "air_raid_shelter",
            Role::CrowdRefuge => "crowd_refuge",
            Role::Lodging => "lodging",
        }
    }

    /// Chinese planning name.
    pub fn zh(self) -> &'static str {
        match self {
            Role::EmergencyShelter => "紧急避难",
            Role::FixedShelter => "固定避难",
            Role::IndoorShelter => "室内避难",
            Role::FieldHospital => "方舱医院",
            Role::IsolationRoom => "集中隔离",
            Role::SurgeBeds => "医院扩容床位",
            Role::MedicalPoint => "医疗救护点",
            Role::SupplyPoint => "物资分发",
            Role::AirRaidShelter => "人员掩蔽",
            Role::CrowdRefuge => "人群疏散避险",
            Role::Lodging => "滞留游客住宿",
        }
    }

    /// What one unit of capacity or demand is.
    pub fn unit(self) -> &'static str {
        match self {
            Role::FieldHospital | Role::SurgeBeds => "beds",
            _ => "persons",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Role::ALL.into_iter().find(|r| r.as_str() == t).ok_or_else(|| {
            format!(
                "unknown role '{s}': use one of {}",
                Role::ALL.map(|r| r.as_str()).join(", ")
            )
        })
    }
}
