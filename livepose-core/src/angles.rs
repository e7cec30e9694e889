//! Named 3D joint angles from world landmarks (metres, MediaPipe's 33-point topology).
//!
//! Each joint angle is the angle in degrees (0..180) at the middle landmark between the
//! segments to its two neighbours, in 3D:
//!
//! | joint | points (left / right landmark indices) | 180° means |
//! | --- | --- | --- |
//! | elbow | shoulder – **elbow** – wrist (11-13-15 / 12-14-16) | arm straight |
//! | shoulder | elbow – **shoulder** – hip (13-11-23 / 14-12-24) | arm raised straight up |
//! | hip | shoulder – **hip** – knee (11-23-25 / 12-24-26) | body and thigh in line |
//! | knee | hip – **knee** – ankle (23-25-27 / 24-26-28) | leg straight |
//! | ankle | knee – **ankle** – foot index (25-27-31 / 26-28-32) | foot in line with the shin |
//!
//! `trunk_lean` is the angle in degrees between the hip-centre → shoulder-centre vector and
//! the vertical (world y points down, so "up" is −y): 0 upright, 90 lying.
//! A joint whose segments are degenerate (zero length, non-finite) is left out.
//!
//! ```
//! use livepose_core::angles::joint_angles;
//! use livepose_core::types::{Joint, Point3};
//!
//! let mut world = [Point3::default(); 33];
//! world[11] = Point3 { x: 0.0, y: -0.5, z: 0.0 }; // left shoulder
//! world[13] = Point3 { x: 0.3, y: -0.5, z: 0.0 }; // left elbow
//! world[15] = Point3 { x: 0.3, y: -0.8, z: 0.0 }; // left wrist: forearm up
//! let mut angles = Vec::new();
//! joint_angles(&world, &mut angles);
//! let elbow = angles.iter().find(|a| a.joint == Joint::LeftElbow).unwrap();
//! assert!((elbow.degrees - 90.0).abs() < 1e-3);
//! ```

use crate::types::{Joint, JointAngle, Point3};

/// (joint, a, vertex, b) landmark indices.
const TRIPLES: [(Joint, usize, usize, usize); 10] = [
    (Joint::LeftElbow, 11, 13, 15),
    (Joint::RightElbow, 12, 14, 16),
    (Joint::LeftShoulder, 13, 11, 23),
    (Joint::RightShoulder, 14, 12, 24),
    (Joint::LeftHip, 11, 23, 25),
    (Joint::RightHip, 12, 24, 26),
    (Joint::LeftKnee, 23, 25, 27),
    (Joint::RightKnee, 24, 26, 28),
    (Joint::LeftAnkle, 25, 27, 31),
    (Joint::RightAnkle, 26, 28, 32),
];

fn sub(a: Point3, b: Point3) -> [f32; 3] {
    [a.x - b.x, a.y - b.y, a.z - b.z]
}

fn norm(v: [f32; 3]) -> f32 {
    (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt()
}

/// Angle in degrees between two vectors, `None` if either is degenerate.
fn angle_between(u: [f32; 3], v: [f32; 3]) -> Option<f32> {
    let (nu, nv) = (norm(u), norm(v));
    if !(nu > 1e-6 && nv > 1e-6 && nu.is_finite() && nv.is_finite()) {
        return None;
    }
    let cos = (u[0] * v[0] + u[1] * v[1] + u[2] * v[2]) / (nu * nv);
    Some(cos.clamp(-1.0, 1.0).acos().to_degrees())
}

/// Computes every named angle from 33 world landmarks into `out` (cleared first; known
/// joints in [`Joint::KNOWN`] order). Fewer than 33 landmarks gives no angles.
pub fn joint_angles(world: &[Point3], out: &mut Vec<JointAngle>) {
    out.clear();
    if world.len() < 33 {
        return;
    }
    for (joint, a, vertex, b) in TRIPLES {
        if let Some(degrees) =
            angle_between(sub(world[a], world[vertex]), sub(world[b], world[vertex]))
        {
            out.push(JointAngle { joint, degrees });
        }
    }
    let mid = |i: usize, j: usize| Point3 {
        x: (world[i].x + world[j].x) / 2.0,
        y: (world[i].y + world[j].y) / 2.0,
        z: (world[i].z + world[j].z) / 2.0,
    };
    let trunk = sub(mid(11, 12), mid(23, 24));
    if let Some(degrees) = angle_between(trunk, [0.0, -1.0, 0.0]) {
        out.push(JointAngle {
            joint: Joint::TrunkLean,
            degrees,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(x: f32, y: f32, z: f32) -> Point3 {
        Point3 { x, y, z }
    }

    /// An upright T-pose-ish skeleton, y down, metres.
    fn skeleton() -> [Point3; 33] {
        let mut w = [Point3::default(); 33];
        w[11] = p(0.2, -0.5, 0.0);
        w[12] = p(-0.2, -0.5, 0.0);
        w[13] = p(0.5, -0.5, 0.0); // arms out sideways
        w[14] = p(-0.5, -0.5, 0.0);
        w[15] = p(0.8, -0.5, 0.0); // straight
        w[16] = p(-0.5, -0.8, 0.0); // right forearm up: 90 degrees
        w[23] = p(0.1, 0.0, 0.0);
        w[24] = p(-0.1, 0.0, 0.0);
        w[25] = p(0.1, 0.45, 0.0);
        w[26] = p(-0.1, 0.45, 0.0);
        w[27] = p(0.1, 0.9, 0.0);
        w[28] = p(-0.1, 0.7, 0.3); // right knee bent
        w[31] = p(0.1, 0.9, -0.15); // foot forward: 90 degrees at the ankle
        w[32] = p(-0.1, 0.7, 0.15);
        w
    }

    fn angle(angles: &[JointAngle], joint: Joint) -> f32 {
        angles.iter().find(|a| a.joint == joint).unwrap().degrees
    }

    #[test]
    fn known_angles() {
        let mut out = Vec::new();
        joint_angles(&skeleton(), &mut out);
        assert_eq!(out.len(), 11);
        assert!((angle(&out, Joint::LeftElbow) - 180.0).abs() < 1e-3);
        assert!((angle(&out, Joint::RightElbow) - 90.0).abs() < 1e-3);
        assert!((angle(&out, Joint::LeftKnee) - 180.0).abs() < 1e-3);
        assert!(angle(&out, Joint::RightKnee) < 150.0);
        assert!((angle(&out, Joint::LeftAnkle) - 90.0).abs() < 1e-3);
        assert!(angle(&out, Joint::TrunkLean) < 1e-3, "upright");
        // Arm out sideways, hip below and inside the shoulder: about 100 degrees.
        let shoulder = angle(&out, Joint::LeftShoulder);
        assert!((90.0..110.0).contains(&shoulder), "{shoulder}");
    }

    #[test]
    fn trunk_lean_follows_the_torso() {
        let mut w = skeleton();
        // Lean the shoulders 0.5 m forward (z) at 0.5 m height: 45 degrees.
        w[11].z = -0.5;
        w[12].z = -0.5;
        let mut out = Vec::new();
        joint_angles(&w, &mut out);
        assert!((angle(&out, Joint::TrunkLean) - 45.0).abs() < 1e-3);
    }

    #[test]
    fn degenerate_segments_are_left_out() {
        let mut out = Vec::new();
        joint_angles(&[Point3::default(); 33], &mut out);
        assert!(out.is_empty());
        joint_angles(&[Point3::default(); 5], &mut out);
        assert!(out.is_empty());
        let mut w = skeleton();
        w[15] = w[13];
        joint_angles(&w, &mut out);
        assert!(out.iter().all(|a| a.joint != Joint::LeftElbow));
        assert_eq!(out.len(), 10);
    }
}
