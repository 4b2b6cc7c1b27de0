// SPDX-License-Identifier: GPL-2.0
//! The store algorithm over a `BTreeMap` of aligned entries, checked against a
//! dense per-page model, with injected allocation failures.

use memattr_core::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Aligned power-of-two entries keyed by start; mirrors what the xarray holds.
#[derive(Default, Clone, Debug)]
struct MapStore {
    entries: BTreeMap<u64, (u32, u64)>,
    /// Reserved empty chunks: read as holes, like XA_ZERO_ENTRY.
    reserved: BTreeMap<u64, u32>,
    /// Fail the n-th fallible operation from now (0 = never).
    fail_in: u32,
    failures: u32,
    /// Calls of `reserve`, to see which path a SET took.
    reserve_calls: u32,
}

impl MapStore {
    fn may_fail(&mut self) -> Result<(), ()> {
        if self.fail_in > 0 {
            self.fail_in -= 1;
            if self.fail_in == 0 {
                self.failures += 1;
                return Err(());
            }
        }
        Ok(())
    }

    fn check_invariants(&self) {
        let mut prev_end = 0;
        for (&start, &(order, value)) in &self.entries {
            assert_ne!(value, 0, "stored a zero value at {start}");
            assert_eq!(start % pages(order), 0, "unaligned entry {start}/{order}");
            assert!(start >= prev_end, "overlapping entries at {start}");
            prev_end = start + pages(order);
        }
    }
}

impl MapStore {
    /// The model of an xarray leaf node: the 64-page block of `gfn` holds an
    /// entry or reservation smaller than a block.
    fn leaf_live(&self, gfn: u64) -> bool {
        let block = gfn & !63;
        let small = |(_, &o): (&u64, &u32)| o < 6;
        self.entries
            .range(block..block + 64)
            .map(|(k, (o, _))| (k, o))
            .any(small)
            || self.reserved.range(block..block + 64).any(small)
    }
}

impl RangeStore for MapStore {
    type Error = ();

    fn page_neighbourhood(&self, gfn: u64) -> Neighbourhood {
        // The xarray tells this when its walk ends above the leaf level at
        // an empty slot and not always when it holds; the model tells it for
        // two pages in three, so that both paths run.
        if !gfn.is_multiple_of(3)
            && !self.leaf_live(gfn)
            && (gfn.saturating_sub(1)..=gfn.saturating_add(1)).all(|g| self.entry_at(g).is_none())
        {
            return Neighbourhood::Empty;
        }
        if !self.leaf_live(gfn) {
            return Neighbourhood::Unknown;
        }
        // At a leaf's edge the xarray tells only the page itself; the model
        // tells it in one leaf of two, so that the general path runs too.
        if gfn.is_multiple_of(64) || gfn % 64 == 63 {
            return match self.entry_at(gfn) {
                None if gfn % 128 < 64 => Neighbourhood::Page(0),
                Some(e) if e.order == 0 && gfn % 128 < 64 => Neighbourhood::Page(e.value),
                _ => Neighbourhood::Unknown,
            };
        }
        let left = self.entry_at(gfn - 1);
        let mid = self.entry_at(gfn);
        let right = self.entry_at(gfn + 1);
        if left.is_some_and(|e| e.order != 0)
            || mid.is_some_and(|e| e.order != 0)
            || right.is_some_and(|e| e.start != gfn + 1)
        {
            return Neighbourhood::Unknown;
        }
        let v = |e: Option<Entry>| e.map_or(0, |e| e.value);
        Neighbourhood::Leaf([v(left), v(mid), v(right)])
    }

    fn entry_at(&self, gfn: u64) -> Option<Entry> {
        let (&start, &(order, value)) = self.entries.range(..=gfn).next_back()?;
        (gfn < start + pages(order)).then_some(Entry {
            start,
            order,
            value,
        })
    }

    fn next_entry(&self, from: u64, last: u64) -> Option<Entry> {
        if let Some(e) = self.entry_at(from) {
            return Some(e);
        }
        let (&start, &(order, value)) = self.entries.range(from..=last).next()?;
        Some(Entry {
            start,
            order,
            value,
        })
    }

    fn split(&mut self, e: Entry) -> Result<(), ()> {
        assert!(e.order > 0);
        self.may_fail()?;
        self.entries.remove(&e.start);
        let half = pages(e.order - 1);
        self.entries.insert(e.start, (e.order - 1, e.value));
        self.entries.insert(e.start + half, (e.order - 1, e.value));
        Ok(())
    }

    fn reserve(&mut self, start: u64, order: u32) -> Result<(), ()> {
        self.reserve_calls += 1;
        let empty = self.next_entry(start, start + pages(order) - 1).is_none();
        self.may_fail()?;
        if empty {
            self.reserved.insert(start, order);
        }
        Ok(())
    }

    fn release(&mut self) {}

    fn unreserve(&mut self, start: u64, order: u32) {
        assert_eq!(
            self.reserved.remove(&start),
            Some(order),
            "unreserve without reserve"
        );
    }

    fn store(&mut self, start: u64, order: u32, value: u64) {
        let end = start + pages(order);
        let inside: Vec<u64> = self.entries.range(start..end).map(|(&k, _)| k).collect();
        let had_entries = !inside.is_empty();
        for k in inside {
            let (o, _) = self.entries[&k];
            assert!(k + pages(o) <= end, "store over a straddling entry at {k}");
            self.entries.remove(&k);
        }
        if let Some(e) = self.entry_at(start) {
            panic!("store at {start} inside entry {e:?}");
        }
        if value != 0 {
            // A value store into a chunk that was empty must have been reserved.
            let was_reserved = self.reserved.remove(&start) == Some(order);
            // ...or, for a single page, its leaf exists (page_neighbourhood).
            assert!(
                had_entries || was_reserved || (order == 0 && self.leaf_live(start)),
                "value stored into an unreserved empty chunk {start}/{order}"
            );
            self.entries.insert(start, (order, value));
        } else {
            self.reserved.remove(&start);
        }
    }
}

fn set(s: &mut MapStore, start: u64, end: u64, value: u64) -> Result<(), ()> {
    let Some(plan) = prepare(s, GfnRange { start, end }, value)? else {
        // Nothing to do: the range already has the value.
        assert!(range_has(s, GfnRange { start, end }, !0, value));
        assert!(s.reserved.is_empty());
        return Ok(());
    };
    assert!(s
        .reserved
        .keys()
        .all(|k| *k >= plan.range.start && *k < plan.range.end));
    commit(s, plan);
    assert!(
        s.reserved.is_empty(),
        "reservations left after commit: {:?}",
        s.reserved
    );
    Ok(())
}

fn snapshot(s: &MapStore, n: u64) -> Vec<u64> {
    (0..n).map(|g| get(s, g)).collect()
}

fn runs(model: &[u64]) -> usize {
    model.windows(2).filter(|w| w[0] != w[1]).count() + 1
}

const SPACE: u64 = 512;

#[derive(Clone, Debug)]
struct Op {
    start: u64,
    len: u64,
    value: u64,
    fail_in: u32,
}

fn op() -> impl Strategy<Value = Op> {
    (
        0..SPACE,
        1..=SPACE,
        prop_oneof![
            Just(0u64),
            Just(ATTR_PRIVATE),
            Just(ATTR_NW),
            Just(ATTR_NW | ATTR_NX),
            1u64..16
        ],
        0u32..6,
    )
        .prop_map(|(start, len, value, fail_in)| Op {
            start,
            len: len.min(SPACE - start).max(1),
            value,
            fail_in,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Random SET sequences with failures injected: the store always reads
    /// like the dense model, a failed SET changes nothing, and the number of
    /// entries stays within the bound of the runs' decomposition.
    #[test]
    fn store_matches_dense_model(ops in proptest::collection::vec(op(), 1..40)) {
        let mut s = MapStore::default();
        let mut model = vec![0u64; SPACE as usize];
        for op in ops {
            let end = op.start + op.len;
            s.fail_in = op.fail_in;
            let before = snapshot(&s, SPACE);
            match set(&mut s, op.start, end, op.value) {
                Ok(()) => model[op.start as usize..end as usize].fill(op.value),
                Err(()) => {
                    prop_assert_eq!(&snapshot(&s, SPACE), &before, "a failed SET changed what readers see");
                    prop_assert!(s.reserved.is_empty(), "failed SET leaked reservations");
                }
            }
            s.fail_in = 0;
            s.check_invariants();
            prop_assert_eq!(&snapshot(&s, SPACE), &model);
            // Each run of n pages costs at most 2*log2(n)+2 chunks, plus the
            // split halves a failed SET may leave behind.
            let bound = runs(&model) * (2 * 10 + 2) + 2 * 64 * s.failures as usize;
            prop_assert!(s.entries.len() <= bound, "{} entries for {} runs", s.entries.len(), runs(&model));
        }
    }

    /// GET walks reproduce the model's runs exactly, and range_has agrees
    /// with the model.
    #[test]
    fn get_runs_and_range_has(ops in proptest::collection::vec(op(), 0..20), a in 0..SPACE, b in 1..=SPACE, mask in 0u64..16, attrs in 0u64..16) {
        let mut s = MapStore::default();
        let mut model = vec![0u64; SPACE as usize];
        for op in ops {
            let end = op.start + op.len;
            set(&mut s, op.start, end, op.value).unwrap();
            model[op.start as usize..end as usize].fill(op.value);
        }
        let (start, end) = (a.min(SPACE - 1), (a + b).min(SPACE).max(a + 1));
        let mut cur = start;
        while cur < end {
            let (value, run_end) = get_run(&s, GfnRange { start: cur, end });
            prop_assert!(run_end > cur && run_end <= end);
            for g in cur..run_end {
                prop_assert_eq!(model[g as usize], value);
            }
            if run_end < end {
                prop_assert_ne!(model[run_end as usize], value, "run not maximal");
            }
            cur = run_end;
        }
        let want = model[start as usize..end as usize].iter().all(|v| v & mask == attrs);
        prop_assert_eq!(range_has(&s, GfnRange { start, end }, mask, attrs), want);
    }

    /// The decomposition covers the range exactly with aligned chunks.
    #[test]
    fn chunks_cover_aligned(start in 0u64..(1 << 40), len in 1u64..(1 << 40)) {
        let end = start + len;
        let mut cur = start;
        let mut n = 0;
        for (i, o) in chunks(start, end) {
            prop_assert_eq!(i, cur);
            prop_assert_eq!(i % pages(o), 0);
            cur = i + pages(o);
            n += 1;
        }
        prop_assert_eq!(cur, end);
        prop_assert!(n <= 2 * 64);
    }
}

#[test]
fn fragmented_single_pages_take_the_fast_path() {
    let mut s = MapStore::default();
    // Every other page private: only the first page of each 64-page block
    // (no leaf yet) and the block's last page (its right neighbour is in
    // the next block) take the general path.
    for gfn in (0..4096).step_by(2) {
        set(&mut s, gfn, gfn + 1, ATTR_PRIVATE).unwrap();
    }
    assert_eq!(s.reserve_calls, 4096 / 64);
    assert_eq!(s.entries.len(), 2048);
    // The pages between join their neighbours' value: those SETs merge, so
    // they may not take the fast path, and the end is one entry.
    for gfn in (1..4096).step_by(2) {
        set(&mut s, gfn, gfn + 1, ATTR_PRIVATE).unwrap();
    }
    assert_eq!(
        s.entries.values().collect::<Vec<_>>(),
        [&(12, ATTR_PRIVATE)]
    );
    s.check_invariants();
}

#[test]
fn uniform_terabyte_is_a_handful_of_entries() {
    let mut s = MapStore::default();
    // 1 TiB from an unaligned start: 2^28 pages.
    set(&mut s, 3, 3 + (1 << 28), ATTR_PRIVATE).unwrap();
    assert!(s.entries.len() <= 2 * 29, "{} entries", s.entries.len());
    // Adjacent single-page SETs merge into one run.
    let mut t = MapStore::default();
    for g in 0..4096 {
        set(&mut t, g, g + 1, ATTR_PRIVATE).unwrap();
    }
    assert_eq!(t.entries.len(), 1, "{:?}", t.entries);
    // Clearing a page in the middle costs O(log) entries.
    set(&mut t, 1000, 1001, 0).unwrap();
    assert!(t.entries.len() <= 24);
    assert_eq!(get(&t, 1000), 0);
    assert_eq!(get(&t, 999), ATTR_PRIVATE);
}

#[test]
fn validation_rules() {
    let caps = Caps {
        supported: supported_attrs(true, true),
        exec_only: false,
    };
    let ok = MemoryAttributes {
        address: 0x1000,
        size: 0x2000,
        attributes: ATTR_PRIVATE,
        flags: 0,
    };
    assert_eq!(validate_set(&ok, caps), Ok(GfnRange { start: 1, end: 3 }));
    let bad = |f: fn(&mut MemoryAttributes)| {
        let mut r = ok;
        f(&mut r);
        validate_set(&r, caps).unwrap_err()
    };
    assert_eq!(bad(|r| r.flags = 1), Invalid::Flags);
    assert_eq!(bad(|r| r.attributes = 1 << 4), Invalid::Unsupported);
    assert_eq!(bad(|r| r.size = 0), Invalid::EmptyRange);
    assert_eq!(bad(|r| r.address = u64::MAX - 0xfff), Invalid::Wraps);
    assert_eq!(bad(|r| r.address = 0x1001), Invalid::Unaligned);
    assert_eq!(bad(|r| r.size = 0x10), Invalid::Unaligned);
    assert_eq!(
        bad(|r| r.attributes = ATTR_PRIVATE | ATTR_NW),
        Invalid::PrivateWithProtection
    );
    assert_eq!(
        bad(|r| r.attributes = ATTR_NR | ATTR_NX),
        Invalid::ReadableOnlyIfWritable
    );
    assert_eq!(
        bad(|r| r.attributes = ATTR_NR | ATTR_NW),
        Invalid::NoExecuteOnly
    );
    let ept = Caps {
        exec_only: true,
        ..caps
    };
    let mut r = ok;
    r.attributes = ATTR_NR | ATTR_NW;
    assert!(validate_set(&r, ept).is_ok());
    // Value 0 clears; the whole 64-bit space minus the last page is fine.
    r.attributes = 0;
    r.address = 0;
    r.size = !0xfff_u64;
    assert!(validate_set(&r, caps).is_ok());
    // Without protections enforced, only PRIVATE is advertised.
    let private_only = Caps {
        supported: supported_attrs(true, false),
        exec_only: false,
    };
    r = ok;
    r.attributes = ATTR_NW;
    assert_eq!(validate_set(&r, private_only), Err(Invalid::Unsupported));
    assert_eq!(supported_attrs(false, false), 0);
    // GET ignores the attributes it is passed.
    r = ok;
    r.attributes = u64::MAX;
    assert_eq!(validate_get(&r), Ok(GfnRange { start: 1, end: 3 }));
}

/// The constants agree with the uAPI header the project ships.
#[test]
fn constants_match_uapi_header() {
    let h = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../include/uapi/linux/kvm_memattr.h"
    ))
    .unwrap();
    for (name, bit) in [
        ("KVM_MEMORY_ATTRIBUTE_NR", 0),
        ("KVM_MEMORY_ATTRIBUTE_NW", 1),
        ("KVM_MEMORY_ATTRIBUTE_NX", 2),
        ("KVM_MEMORY_ATTRIBUTE_PRIVATE", 3),
    ] {
        let line = h
            .lines()
            .find(|l| l.starts_with(&format!("#define {name}")))
            .unwrap_or_else(|| panic!("{name} missing"));
        assert!(line.contains(&format!("(1ULL << {bit})")), "{line}");
    }
    assert_eq!([ATTR_NR, ATTR_NW, ATTR_NX, ATTR_PRIVATE], [1, 2, 4, 8]);
    assert_eq!(KVM_SET_MEMORY_ATTRIBUTES, 0x4020aed2);
    assert_eq!(KVM_GET_MEMORY_ATTRIBUTES, 0xc020aed3);
    assert!(h.contains("_IOWR(KVMIO, 0xd3, struct kvm_memory_attributes)"));
}

/// A store that a concurrent SET changes between GET's lookups: the first
/// lookup sees a hole, the next already sees an entry covering the start.
struct RacingStore;

impl RangeStore for RacingStore {
    type Error = ();

    fn entry_at(&self, _gfn: u64) -> Option<Entry> {
        None
    }

    fn next_entry(&self, _from: u64, _last: u64) -> Option<Entry> {
        Some(Entry {
            start: 0,
            order: 9,
            value: 2,
        })
    }

    fn split(&mut self, _e: Entry) -> Result<(), ()> {
        Err(())
    }

    fn reserve(&mut self, _start: u64, _order: u32) -> Result<(), ()> {
        Err(())
    }

    fn unreserve(&mut self, _start: u64, _order: u32) {}

    fn release(&mut self) {}

    fn store(&mut self, _start: u64, _order: u32, _value: u64) {}
}

#[test]
fn get_run_racing_a_set_is_never_empty() {
    // Before the fix the run ended at the entry's start (0), before it began.
    let (value, end) = get_run(
        &RacingStore,
        GfnRange {
            start: 100,
            end: 200,
        },
    );
    assert_eq!((value, end), (0, 101));
}
