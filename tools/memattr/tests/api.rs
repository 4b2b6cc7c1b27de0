// SPDX-License-Identifier: GPL-2.0
//! The crate without /dev/kvm: generated bindings, ioctl numbers, exit
//! decoding and the run walker against a model map.

use kvm_memattr::*;
use proptest::prelude::*;
use vmm_sys_util::errno;

#[test]
fn generated_bindings_match_the_shared_constants() {
    assert_eq!(Attributes::NR.0, memattr_core::ATTR_NR);
    assert_eq!(Attributes::NW.0, memattr_core::ATTR_NW);
    assert_eq!(Attributes::NX.0, memattr_core::ATTR_NX);
    assert_eq!(Attributes::PRIVATE.0, memattr_core::ATTR_PRIVATE);
    assert_eq!(
        sys::KVM_SET_MEMORY_ATTRIBUTES() as u32,
        memattr_core::KVM_SET_MEMORY_ATTRIBUTES
    );
    assert_eq!(
        sys::KVM_GET_MEMORY_ATTRIBUTES() as u32,
        memattr_core::KVM_GET_MEMORY_ATTRIBUTES
    );
    assert_eq!(std::mem::size_of::<sys::kvm_memory_attributes>(), 32);
    // The same layout rust-vmm's kvm-bindings uses for SET.
    assert_eq!(
        std::mem::size_of::<sys::kvm_memory_attributes>(),
        std::mem::size_of::<kvm_bindings::kvm_memory_attributes>()
    );
}

#[test]
fn decode_memory_faults() {
    let d = |f| MemoryFault::decode(f, 0x2000, 4096);
    assert_eq!(
        d(1),
        MemoryFault::Denied {
            access: Access::Read,
            gpa: 0x2000,
            size: 4096
        }
    );
    assert_eq!(
        d(2),
        MemoryFault::Denied {
            access: Access::Write,
            gpa: 0x2000,
            size: 4096
        }
    );
    assert_eq!(
        d(4),
        MemoryFault::Denied {
            access: Access::Exec,
            gpa: 0x2000,
            size: 4096
        }
    );
    assert_eq!(
        d(8),
        MemoryFault::Private {
            gpa: 0x2000,
            size: 4096
        }
    );
    // Exactly one access bit is the contract; anything else is not guessed at.
    assert_eq!(
        d(3),
        MemoryFault::Unknown {
            flags: 3,
            gpa: 0x2000,
            size: 4096
        }
    );
    assert_eq!(
        d(0),
        MemoryFault::Unknown {
            flags: 0,
            gpa: 0x2000,
            size: 4096
        }
    );
    assert_eq!(
        d(2).to_string(),
        "write denied at gpa 0x2000 (page of 4096 bytes)"
    );
    assert_eq!(
        d(4).to_string(),
        "instruction fetch denied at gpa 0x2000 (page of 4096 bytes)"
    );
}

#[test]
fn attributes_display() {
    assert_eq!(Attributes::NONE.to_string(), "shared");
    assert_eq!((Attributes::NW | Attributes::NX).to_string(), "NW|NX");
    assert_eq!(Attributes(1 << 9 | 8).to_string(), "private|0x200");
    assert!((Attributes::NR | Attributes::NW).contains(Attributes::NW));
}

/// GET semantics over a per-page model: the attributes at `gpa` and the run
/// length clipped to `size`.
fn model_get(model: &[u64], gpa: u64, size: u64) -> Result<Run, errno::Error> {
    let first = (gpa / PAGE_SIZE) as usize;
    let last = ((gpa + size) / PAGE_SIZE) as usize;
    let v = model[first];
    let n = model[first..last].iter().take_while(|x| **x == v).count();
    Ok(Run {
        gpa,
        size: n as u64 * PAGE_SIZE,
        attrs: Attributes(v),
    })
}

proptest! {
    #[test]
    fn walk_yields_exact_maximal_runs(model in proptest::collection::vec(prop_oneof![Just(0u64), Just(2), Just(8)], 1..200)) {
        let end = model.len() as u64 * PAGE_SIZE;
        let runs: Vec<Run> = walk(0, end, |g, s| model_get(&model, g, s)).collect::<Result<_, _>>().unwrap();
        let mut cur = 0;
        for (i, r) in runs.iter().enumerate() {
            prop_assert_eq!(r.gpa, cur);
            for p in r.gpa / PAGE_SIZE..r.end() / PAGE_SIZE {
                prop_assert_eq!(model[p as usize], r.attrs.0);
            }
            if i > 0 {
                prop_assert_ne!(runs[i - 1].attrs, r.attrs);
            }
            cur = r.end();
        }
        prop_assert_eq!(cur, end);
    }
}

#[test]
fn walk_stops_on_errors_and_bad_runs() {
    let mut calls = 0;
    let v: Vec<_> = walk(0, 3 * PAGE_SIZE, |_, _| {
        calls += 1;
        Err(errno::Error::new(libc::EINVAL))
    })
    .collect();
    assert_eq!(v.len(), 1);
    assert_eq!(calls, 1);
    let v: Vec<_> = walk(0, PAGE_SIZE, |g, _| {
        Ok(Run {
            gpa: g,
            size: 0,
            attrs: Attributes::NONE,
        })
    })
    .collect();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].unwrap_err().errno(), libc::EIO);
}
