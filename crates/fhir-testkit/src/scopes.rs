//! The sandbox's reading of SMART scopes: enough to grant or refuse a FHIR interaction.
//!
//! Both syntaxes are understood: v2 (`patient/Observation.rs`) and v1
//! (`patient/Observation.read`, `.write`, `.*`). The context (`patient/`, `user/`, `system/`)
//! is not turned into compartment filtering: a patient-context token may read any patient's
//! data here, which a production server would refuse.

/// The permission a FHIR interaction needs, as a SMART v2 letter (`c r u d s`).
pub(crate) fn permission_for(method: &str, is_instance: bool) -> char {
    match method {
        "POST" => 'c',
        "PUT" | "PATCH" => 'u',
        "DELETE" => 'd',
        _ if is_instance => 'r',
        _ => 's',
    }
}

/// Whether the space-separated `granted` scopes allow `permission` on `resource_type`.
pub(crate) fn allows(granted: &str, resource_type: &str, permission: char) -> bool {
    granted.split_whitespace().any(|scope| {
        let scope = scope.split('?').next().unwrap_or(scope);
        let Some((context, rest)) = scope.split_once('/') else {
            return false;
        };
        if !matches!(context, "patient" | "user" | "system") {
            return false;
        }
        let Some((kind, perms)) = rest.split_once('.') else {
            return false;
        };
        if kind != "*" && kind != resource_type {
            return false;
        }
        let letters = match perms {
            "read" => "rs",
            "write" => "cud",
            "*" => "cruds",
            v2 => v2,
        };
        letters.contains(permission)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_and_v2_scopes_grant_the_same_interactions() {
        assert!(allows("patient/Observation.rs", "Observation", 'r'));
        assert!(allows("patient/Observation.read", "Observation", 's'));
        assert!(!allows("patient/Observation.read", "Observation", 'c'));
        assert!(allows("user/*.cruds", "Patient", 'd'));
        assert!(allows("system/*.write", "Patient", 'u'));
        assert!(!allows("system/Patient.rs", "Observation", 'r'));
        assert!(allows(
            "launch openid system/Patient.rs?_tag=x",
            "Patient",
            's'
        ));
        assert!(!allows("openid fhirUser", "Patient", 'r'));
    }

    #[test]
    fn interactions_map_to_letters() {
        assert_eq!(permission_for("GET", true), 'r');
        assert_eq!(permission_for("GET", false), 's');
        assert_eq!(permission_for("POST", false), 'c');
        assert_eq!(permission_for("PATCH", true), 'u');
        assert_eq!(permission_for("DELETE", true), 'd');
    }
}
