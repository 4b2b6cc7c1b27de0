// SPDX-License-Identifier: GPL-2.0

//! Pure logic of kvm-memattr, shared by the kernel module and host tests.
//!
//! Nothing here touches the kernel: uAPI validation, the decomposition of a gfn
//! range into aligned power-of-two chunks, and the store algorithm written
//! against the [`RangeStore`] trait. The module implements that trait over the
//! kernel's xarray (multi-index entries); the host tests implement it over a
//! `BTreeMap` and check it against a dense per-page model.
//!
//! Ranges are half-open, `[start, end)`, everywhere.

#![no_std]

/// Upstream's private bit (`KVM_MEMORY_ATTRIBUTE_PRIVATE`).
pub const ATTR_PRIVATE: u64 = 1 << 3;
/// No read (and so no access).
pub const ATTR_NR: u64 = 1 << 0;
/// No write.
pub const ATTR_NW: u64 = 1 << 1;
/// No execute.
pub const ATTR_NX: u64 = 1 << 2;
/// The protection bits.
pub const ATTR_RWX: u64 = ATTR_NR | ATTR_NW | ATTR_NX;

/// `_IOW(KVMIO, 0xd2, struct kvm_memory_attributes)`.
pub const KVM_SET_MEMORY_ATTRIBUTES: u32 = ioc(1, 0xd2, 32);
/// `_IOWR(KVMIO, 0xd3, struct kvm_memory_attributes)`.
pub const KVM_GET_MEMORY_ATTRIBUTES: u32 = ioc(3, 0xd3, 32);

const fn ioc(dir: u32, nr: u32, size: u32) -> u32 {
    (dir << 30) | (size << 16) | (0xAE << 8) | nr
}

/// Page size of a gfn.
pub const PAGE_SHIFT: u32 = 12;

/// `struct kvm_memory_attributes`, as userspace passes it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryAttributes {
    /// Guest physical address, 4 KiB aligned.
    pub address: u64,
    /// Length in bytes, 4 KiB aligned, non-zero.
    pub size: u64,
    /// Attribute bits (SET input, GET output).
    pub attributes: u64,
    /// Must be zero.
    pub flags: u64,
}

/// Why a request was refused. Every variant maps to `-EINVAL`; the variants
/// exist so tests can tell which rule fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invalid {
    /// `flags != 0`.
    Flags,
    /// An attribute bit this VM does not accept.
    Unsupported,
    /// `size == 0`.
    EmptyRange,
    /// `address + size` wraps.
    Wraps,
    /// Address or size not 4 KiB aligned.
    Unaligned,
    /// `PRIVATE` together with a protection bit.
    PrivateWithProtection,
    /// `NR` without `NW`.
    ReadableOnlyIfWritable,
    /// `NR` without `NX` on an MMU that cannot map execute-only.
    NoExecuteOnly,
}

/// What a VM accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caps {
    /// Attribute bits the VM accepts (`KVM_CAP_MEMORY_ATTRIBUTES`).
    pub supported: u64,
    /// The MMU can map a page execute-only (EPT with execute-only; never NPT).
    pub exec_only: bool,
}

/// Attribute bits a VM accepts. `rwx` says whether protections are enforced
/// by this build; bits that are not enforced are never advertised.
pub const fn supported_attrs(has_private_mem: bool, rwx: bool) -> u64 {
    let mut bits = 0;
    if rwx {
        bits |= ATTR_RWX;
    }
    if has_private_mem {
        bits |= ATTR_PRIVATE;
    }
    bits
}

/// A validated gfn range, `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GfnRange {
    /// First gfn.
    pub start: u64,
    /// One past the last gfn.
    pub end: u64,
}

fn check_range(req: &MemoryAttributes) -> Result<GfnRange, Invalid> {
    if req.flags != 0 {
        return Err(Invalid::Flags);
    }
    if req.size == 0 {
        return Err(Invalid::EmptyRange);
    }
    let end = req.address.checked_add(req.size).ok_or(Invalid::Wraps)?;
    let mask = (1u64 << PAGE_SHIFT) - 1;
    if req.address & mask != 0 || req.size & mask != 0 {
        return Err(Invalid::Unaligned);
    }
    Ok(GfnRange {
        start: req.address >> PAGE_SHIFT,
        end: end >> PAGE_SHIFT,
    })
}

/// Validates a `KVM_SET_MEMORY_ATTRIBUTES` request (DESIGN §2).
pub fn validate_set(req: &MemoryAttributes, caps: Caps) -> Result<GfnRange, Invalid> {
    if req.flags != 0 {
        return Err(Invalid::Flags);
    }
    let attrs = req.attributes;
    if attrs & !caps.supported != 0 {
        return Err(Invalid::Unsupported);
    }
    let range = check_range(req)?;
    if attrs & ATTR_PRIVATE != 0 && attrs & ATTR_RWX != 0 {
        return Err(Invalid::PrivateWithProtection);
    }
    if attrs & ATTR_NR != 0 && attrs & ATTR_NW == 0 {
        return Err(Invalid::ReadableOnlyIfWritable);
    }
    if attrs & ATTR_NR != 0 && attrs & ATTR_NX == 0 && !caps.exec_only {
        return Err(Invalid::NoExecuteOnly);
    }
    Ok(range)
}

/// Validates a `KVM_GET_MEMORY_ATTRIBUTES` request; `attributes` is output only.
pub fn validate_get(req: &MemoryAttributes) -> Result<GfnRange, Invalid> {
    check_range(req)
}

/// Number of pages in a chunk of `order`.
#[inline]
pub const fn pages(order: u32) -> u64 {
    1u64 << order
}

/// The greedy decomposition of `[start, end)` into maximal naturally aligned
/// power-of-two chunks `(index, order)`, in increasing order. A range of `n`
/// pages yields at most `2 * log2(n) + 2` chunks.
#[derive(Clone, Debug)]
pub struct Chunks {
    next: u64,
    end: u64,
}

/// Iterates over the aligned chunks of `[start, end)`.
pub fn chunks(start: u64, end: u64) -> Chunks {
    Chunks { next: start, end }
}

impl Iterator for Chunks {
    type Item = (u64, u32);

    fn next(&mut self) -> Option<(u64, u32)> {
        if self.next >= self.end {
            return None;
        }
        let left = self.end - self.next;
        // Largest order the start is aligned to, capped by what is left.
        let align = if self.next == 0 {
            63
        } else {
            self.next.trailing_zeros()
        };
        let fit = 63 - left.leading_zeros();
        let order = align.min(fit);
        let chunk = (self.next, order);
        self.next += pages(order);
        Some(chunk)
    }
}

/// One stored entry: `value` over `[start, start + 2^order)`, `start` aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// First gfn of the entry.
    pub start: u64,
    /// log2 of the number of pages.
    pub order: u32,
    /// Attribute bits, never 0.
    pub value: u64,
}

impl Entry {
    /// One past the last gfn of the entry.
    pub fn end(&self) -> u64 {
        self.start + pages(self.order)
    }
}

/// What a store can tell of a page and its neighbours in one cheap lookup
/// ([`RangeStore::page_neighbourhood`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Neighbourhood {
    /// Nothing cheap to tell.
    Unknown,
    /// The attributes of `gfn - 1`, `gfn` and `gfn + 1` (0 for no entry):
    /// the entries at `gfn - 1` and `gfn` (if any) are single pages, the one
    /// at `gfn + 1` (if any) starts there, and a store at `gfn` needs no
    /// allocation.
    Leaf([u64; 3]),
    /// The attributes of `gfn` (0 for no entry), whose entry, if any, is a
    /// single page; the neighbours are not known (`gfn` sits at an edge of
    /// the store's leaf node). Enough for a clear, which merges with nothing.
    Page(u64),
    /// No entry at `gfn - 1`, `gfn` or `gfn + 1` (a store at `gfn` may need
    /// memory: it is reserved as for any chunk).
    Empty,
}

/// A store of aligned power-of-two entries, e.g. an xarray with multi-index
/// entries. Entries never overlap; a gfn in no entry has attributes 0.
pub trait RangeStore {
    /// Allocation failure.
    type Error;

    /// The entry covering `gfn`, if any.
    fn entry_at(&self, gfn: u64) -> Option<Entry>;
    /// The first entry that intersects `[from, last]`.
    fn next_entry(&self, from: u64, last: u64) -> Option<Entry>;
    /// Replaces `entry` by its two halves, same value. Readers see no change.
    fn split(&mut self, entry: Entry) -> Result<(), Self::Error>;
    /// Allocates what a later `store` of a value over the chunk
    /// `(start, order)` needs, whether or not entries intersect it.
    /// Readers see no change.
    fn reserve(&mut self, start: u64, order: u32) -> Result<(), Self::Error>;
    /// Releases a reservation of an empty chunk that will not be used.
    fn unreserve(&mut self, start: u64, order: u32);
    /// Releases whatever else `reserve` set aside, once the SET is over
    /// (committed or failed). Never fails.
    fn release(&mut self);
    /// Stores `value` (0 erases) over the aligned chunk. Cannot fail once
    /// the chunk was prepared.
    fn store(&mut self, start: u64, order: u32, value: u64);
    /// Fast path of a single-page SET at `gfn`: what one cheap lookup tells
    /// of `gfn` and its neighbours (see [`Neighbourhood`]).
    /// [`Neighbourhood::Unknown`] sends the SET down the general path; that
    /// is always correct, and the default.
    fn page_neighbourhood(&self, _gfn: u64) -> Neighbourhood {
        Neighbourhood::Unknown
    }
    /// True if, for a range that holds no entry, reserving its first and
    /// last chunks reserves every chunk of it (the others' slots lie in
    /// nodes those two reservations create). By default each chunk is
    /// reserved.
    fn reserves_by_ends(&self) -> bool {
        false
    }
    /// Stores `value` over every chunk of `range`'s decomposition, all of
    /// them prepared. A store may batch them (one hold of a lock); by
    /// default, one [`RangeStore::store`] per chunk.
    fn store_range(&mut self, range: GfnRange, value: u64) {
        for (start, order) in chunks(range.start, range.end) {
            self.store(start, order, value);
        }
    }
}

/// The attributes of `gfn`.
pub fn get<S: RangeStore>(s: &S, gfn: u64) -> u64 {
    s.entry_at(gfn).map_or(0, |e| e.value)
}

/// GET: the attributes at `range.start` and the end of the run of pages that
/// carry them, clipped to `range.end`. O(entries in the run).
///
/// Each lookup is consistent on its own, but a SET may run between them: the
/// answer is then one the store held at the first lookup for at least the
/// first page, and the run is never empty and never ends before it starts.
pub fn get_run<S: RangeStore>(s: &S, range: GfnRange) -> (u64, u64) {
    match s.entry_at(range.start) {
        None => {
            // An entry that now covers `range.start` appeared after the
            // first lookup: the run of zeros seen is that one page.
            let end = s
                .next_entry(range.start, range.end - 1)
                .map_or(range.end, |e| e.start.max(range.start + 1));
            (0, end.min(range.end))
        }
        Some(first) => {
            let mut cur = first.end();
            while cur < range.end {
                match s.entry_at(cur) {
                    Some(e) if e.value == first.value => cur = e.end(),
                    _ => break,
                }
            }
            (first.value, cur.min(range.end))
        }
    }
}

/// True if every gfn in `range` has `(attributes & mask) == attrs`.
/// O(entries in the range).
pub fn range_has<S: RangeStore>(s: &S, range: GfnRange, mask: u64, attrs: u64) -> bool {
    let mut cur = range.start;
    while cur < range.end {
        match s.entry_at(cur) {
            Some(e) => {
                if e.value & mask != attrs {
                    return false;
                }
                cur = e.end();
            }
            None => {
                if attrs != 0 {
                    return false;
                }
                cur = s
                    .next_entry(cur, range.end - 1)
                    .map_or(range.end, |e| e.start);
            }
        }
    }
    true
}

/// What `prepare` decided; `commit` carries it out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The range rewritten: the request widened to the whole runs of equal
    /// value that touch it, so the store keeps one decomposition per run.
    pub range: GfnRange,
    /// The new value.
    pub value: u64,
}

/// Makes `gfn` an entry boundary by halving the entry that straddles it.
fn split_at<S: RangeStore>(s: &mut S, gfn: u64) -> Result<(), S::Error> {
    while let Some(e) = s.entry_at(gfn) {
        if e.start == gfn {
            break;
        }
        s.split(e)?;
    }
    Ok(())
}

/// First half of a SET: everything that can fail, with no visible change.
/// On error the store reads exactly as before (splits preserve values and
/// reservations are released). `None`: the range already has `value`
/// everywhere, there is nothing to commit.
///
/// The single-page case is inline in the caller and the rest is not: a SET
/// among differing neighbours, the common one of a fragmented map, then
/// costs one lookup and no call beyond the store's own.
#[inline(always)]
pub fn prepare<S: RangeStore>(
    s: &mut S,
    range: GfnRange,
    value: u64,
) -> Result<Option<Plan>, S::Error> {
    // One page between neighbours of other values (or none), the fragmented
    // case: nothing merges, nothing straddles an end, nothing to allocate.
    let neighbourhood = if range.end - range.start == 1 {
        s.page_neighbourhood(range.start)
    } else {
        Neighbourhood::Unknown
    };
    match neighbourhood {
        Neighbourhood::Leaf([_, page, _]) if page == value => Ok(None),
        Neighbourhood::Leaf([left, _, right])
            if value == 0 || (left != value && right != value) =>
        {
            Ok(Some(Plan { range, value }))
        }
        // The page's value differs: no need to ask range_has().
        Neighbourhood::Leaf(_) => prepare_range(s, range, value),
        // A page at a leaf's edge: a clear needs nothing more; a SET looks
        // at the neighbours for a merge.
        Neighbourhood::Page(page) if page == value => Ok(None),
        Neighbourhood::Page(_) if value == 0 => Ok(Some(Plan { range, value })),
        Neighbourhood::Page(_) => prepare_range(s, range, value),
        // A page alone: nothing to clear, or nothing to merge with and
        // nothing to split, only the page's chunk to reserve.
        Neighbourhood::Empty if value == 0 => Ok(None),
        Neighbourhood::Empty => match s.reserve(range.start, 0) {
            Ok(()) => Ok(Some(Plan { range, value })),
            Err(err) => {
                s.release();
                Err(err)
            }
        },
        Neighbourhood::Unknown if range_has(s, range, !0, value) => Ok(None),
        Neighbourhood::Unknown => prepare_range(s, range, value),
    }
}

/// `prepare` of a range that needs more than a single-page store.
#[inline(never)]
fn prepare_range<S: RangeStore>(
    s: &mut S,
    range: GfnRange,
    value: u64,
) -> Result<Option<Plan>, S::Error> {
    let mut wide = range;
    // The entries just outside the range decide both merging and splitting.
    let before = |s: &S, gfn: u64| if gfn > 0 { s.entry_at(gfn - 1) } else { None };
    let mut left = before(s, wide.start);
    let mut right = s.entry_at(wide.end);
    if value != 0 {
        // Merge with the runs of the same value on either side.
        while let Some(e) = left.filter(|e| e.value == value) {
            wide.start = e.start;
            left = before(s, wide.start);
        }
        while let Some(e) = right.filter(|e| e.value == value) {
            wide.end = e.end();
            right = s.entry_at(wide.end);
        }
    }
    // Only an entry that covers both sides of an end must be split there.
    if left.is_some_and(|e| e.end() > wide.start) {
        split_at(s, wide.start)?;
    }
    if right.is_some_and(|e| e.start < wide.end) {
        split_at(s, wide.end)?;
    }
    if value != 0 {
        if s.reserves_by_ends() && s.next_entry(wide.start, wide.end - 1).is_none() {
            let mut all = chunks(wide.start, wide.end);
            let first = all.next();
            let last = all.last();
            reserve_chunks(s, first.into_iter().chain(last))?;
        } else {
            reserve_chunks(s, chunks(wide.start, wide.end))?;
        }
    }
    Ok(Some(Plan { range: wide, value }))
}

/// Reserves each chunk of `todo`; on failure releases what it reserved.
fn reserve_chunks<S: RangeStore>(
    s: &mut S,
    todo: impl Iterator<Item = (u64, u32)> + Clone,
) -> Result<(), S::Error> {
    for (i, (start, order)) in todo.clone().enumerate() {
        if let Err(err) = s.reserve(start, order) {
            for (start, order) in todo.take(i) {
                if s.next_entry(start, start + pages(order) - 1).is_none() {
                    s.unreserve(start, order);
                }
            }
            s.release();
            return Err(err);
        }
    }
    Ok(())
}

/// Second half of a SET: rewrites the planned range. Never fails.
#[inline(always)]
pub fn commit<S: RangeStore>(s: &mut S, plan: Plan) {
    s.store_range(plan.range, plan.value);
    s.release();
}
