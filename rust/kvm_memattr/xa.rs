// SPDX-License-Identifier: GPL-2.0

//! Safe wrappers over the kernel's xarray ([`include/linux/xarray.h`]) for the
//! range store: multi-index entries holding attribute values, value-preserving
//! splits, reservations with `XA_ZERO_ENTRY`.
//!
//! This is the only module that touches `bindings::` for the xarray.
//!
//! [`include/linux/xarray.h`]: srctree/include/linux/xarray.h

use crate::memattr_core::{pages, Entry, Neighbourhood};
use core::ffi::c_void;
use kernel::bindings;
use kernel::prelude::*;
use kernel::types::Opaque;

/// The C helpers of `helpers.c`, declared by bindgen from `helpers.h` when the
/// module is built (scripts/module.sh), so the two cannot drift apart.
mod ffi {
    // Generated code: allow what the kernel allows in its own bindings crate
    // (rust/bindings/lib.rs): `pub` items in a private module, C type names.
    #![allow(unreachable_pub, non_camel_case_types)]
    use kernel::bindings::{xa_node, xa_state, xarray};
    include!("helpers_generated.rs");
}
pub(crate) use ffi::memattr_warn;
use ffi::{
    memattr_cond_resched, memattr_rcu_read_lock, memattr_rcu_read_unlock, memattr_xa_head,
    memattr_xa_init, memattr_xa_is_node, memattr_xa_lock, memattr_xa_to_node, memattr_xa_unlock,
    memattr_xas_retry,
};

/// The entry encodings of `include/linux/xarray.h` that every SET uses,
/// inline: each is an instruction or two, where a call to a C helper (Rust
/// cannot inline C) costs more than the operation. The KUnit suite checks
/// each against the C inline (`encodings_match_c`).
pub(crate) mod enc {
    use core::ffi::c_void;

    /// `xa_mk_value()`.
    #[inline(always)]
    pub(crate) fn mk_value(v: u64) -> *mut c_void {
        ((v << 1) | 1) as usize as *mut c_void
    }

    /// `xa_is_value()`.
    #[inline(always)]
    pub(crate) fn is_value(entry: *const c_void) -> bool {
        entry as usize & 1 != 0
    }

    /// `xa_to_value()`.
    #[inline(always)]
    pub(crate) fn to_value(entry: *const c_void) -> u64 {
        (entry as usize >> 1) as u64
    }

    /// `xa_mk_internal()`.
    #[inline(always)]
    const fn mk_internal(v: isize) -> usize {
        ((v << 2) | 2) as usize
    }

    /// `xa_mk_internal()` as a node pointer (an error in an xa_state).
    #[cfg(CONFIG_KUNIT)]
    pub(crate) fn mk_internal_ptr(v: isize) -> *mut kernel::bindings::xa_node {
        mk_internal(v) as *mut kernel::bindings::xa_node
    }

    /// `XA_ZERO_ENTRY`: a reservation.
    #[inline(always)]
    pub(crate) fn zero_entry() -> *mut c_void {
        mk_internal(257) as *mut c_void
    }

    /// `xa_is_sibling()`: a slot of a multi-index entry other than its first.
    #[inline(always)]
    pub(crate) fn is_sibling(entry: *const c_void) -> bool {
        let v = entry as usize;
        v & 3 == 2 && v < mk_internal(63)
    }

    /// `xa_to_sibling()`: the slot of the entry's first, in the same node.
    #[inline(always)]
    pub(crate) fn to_sibling(entry: *const c_void) -> usize {
        entry as usize >> 2
    }

    /// `xa_err()` of an xa_state's node: 0 or a negative errno.
    #[inline(always)]
    pub(crate) fn err(node: *const c_void) -> i32 {
        let v = node as usize;
        // xa_is_err(): internal, and at or above xa_mk_internal(-MAX_ERRNO).
        if v & 3 == 2 && v >= mk_internal(-4095) {
            (v as isize >> 2) as i32
        } else {
            0
        }
    }
}

/// KUnit: the inline encodings of [`enc`] agree with the C inlines.
#[cfg(CONFIG_KUNIT)]
pub(crate) fn encodings_match_c() -> bool {
    use ffi::{
        memattr_xa_is_value, memattr_xa_mk_value, memattr_xa_to_value, memattr_xa_zero_entry,
        memattr_xas_error,
    };
    let values = [0u64, 1, 8, 0xf, 0x1234_5678, (1 << 62) - 1, (1 << 63) - 1];
    let zero = enc::zero_entry();
    // SAFETY: the helpers only compute encodings.
    let zero_ok = zero == unsafe { memattr_xa_zero_entry() }
        && !enc::is_value(zero)
        // SAFETY: as above.
        && !unsafe { memattr_xa_is_value(zero) };
    let values_ok = values.iter().all(|&v| {
        let e = enc::mk_value(v);
        // SAFETY: as above.
        unsafe {
            e == memattr_xa_mk_value(v as _)
                && enc::is_value(e) == memattr_xa_is_value(e)
                && enc::to_value(e) == memattr_xa_to_value(e) as u64
        }
    });
    // An xa_state's node holding an error, XAS_BOUNDS, XAS_RESTART, a node.
    let nodes = [
        enc::mk_internal_ptr(-1),
        enc::mk_internal_ptr(-12),
        enc::mk_internal_ptr(-4095),
        1usize as *mut bindings::xa_node,
        3usize as *mut bindings::xa_node,
        0x1000usize as *mut bindings::xa_node,
    ];
    let errs_ok = nodes.iter().all(|&node| {
        // SAFETY: `xa_state` is plain data, for which all zeroes is valid.
        let mut xas: bindings::xa_state = unsafe { core::mem::zeroed() };
        xas.xa_node = node;
        // SAFETY: reads the node field of the state.
        enc::err(node as *const c_void) == unsafe { memattr_xas_error(&xas) }
    });
    // XA_STATE_ORDER: the inline initialisation against the C macro.
    let xa = 0x1000usize as *mut bindings::xarray;
    let states = [
        (0u64, 0u32),
        (1, 0),
        (0x1234_5677, 0),
        (0x1234_5677, 5),
        (1 << 40, 6),
        (0xfff, 11),
        (0x4_0000, 18),
        (0x1_0000_0001, 28),
        (3, 37),
    ];
    let states_ok = states.iter().all(|&(index, order)| {
        let mut c = core::mem::MaybeUninit::<bindings::xa_state>::uninit();
        // SAFETY: the helper fully initialises the state; `xa` is not dereferenced.
        let c = unsafe {
            ffi::memattr_xas_init(c.as_mut_ptr(), xa, index as _, order);
            c.assume_init()
        };
        let r = XaState::init(xa, index, order).0;
        r.xa == c.xa
            && r.xa_index == c.xa_index
            && r.xa_shift == c.xa_shift
            && r.xa_sibs == c.xa_sibs
            && r.xa_offset == c.xa_offset
            && r.xa_node == c.xa_node
            && r.xa_alloc == c.xa_alloc
            && r.xa_update.is_none() == c.xa_update.is_none()
            && r.xa_lru == c.xa_lru
    });
    zero_ok && values_ok && errs_ok && states_ok
}

/// An xarray of attribute values, one multi-index entry per aligned chunk.
///
/// # Invariants
///
/// `inner` was initialised by `memattr_xa_init` (pin-init) and is pinned, so
/// the embedded spinlock and the node back-pointers stay valid. Every present
/// entry is either a value entry (`xa_mk_value(attrs)`, `attrs != 0`) or a
/// reservation (`XA_ZERO_ENTRY`), which reads as "no entry".
#[pin_data(PinnedDrop)]
pub(crate) struct XArray {
    #[pin]
    inner: Opaque<bindings::xarray>,
}

/// Holds the xarray's spinlock; writers take it for each operation.
#[must_use]
struct Guard<'a>(&'a XArray);

impl Drop for Guard<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: the guard was created by `XArray::lock`, which took the lock.
        unsafe { memattr_xa_unlock(self.0.inner.get()) };
    }
}

/// How a multi-step read is protected from writers.
#[derive(Clone, Copy)]
pub(crate) enum ReadMode {
    /// Under the xarray's lock: consistent against any writer (GET, range queries).
    Locked,
    /// Under RCU only: for the single writer itself, which nobody else modifies
    /// under; beside a writer, an entry's order may be read half rewritten
    /// (a first look that a locked read confirms: `ops_range_has()`).
    Rcu,
}

/// The protection a [`ReadMode`] asked for, released on drop.
#[must_use]
enum ReadGuard<'a> {
    Locked(#[expect(dead_code, reason = "held for its Drop")] Guard<'a>),
    Rcu,
}

impl Drop for ReadGuard<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        if let ReadGuard::Rcu = self {
            // SAFETY: taken in `XArray::read`.
            unsafe { memattr_rcu_read_unlock() };
        }
    }
}

/// Where a node sits in the tree: the chunks whose slots it holds.
#[derive(Clone, Copy)]
pub(crate) struct SlotNode {
    shift: u32,
    chunk_shift: u32,
    first: u64,
    last: u64,
}

impl SlotNode {
    /// True if the slots of the chunk `(start, order)` are in this node.
    pub(crate) fn holds(&self, start: u64, order: u32) -> bool {
        order >= self.shift
            && order < self.shift + self.chunk_shift
            && start >= self.first
            && start + (pages(order) - 1) <= self.last
    }
}

/// A freshly initialised `struct xa_state` for `index` and `order`.
struct XaState(bindings::xa_state);

/// The node a walk ended in, if it is one: `None` for the head (NULL) or an
/// internal state (restart, bounds, an error: low bits set).
#[inline(always)]
fn xas_node(xas: &bindings::xa_state) -> Option<&bindings::xa_node> {
    let node = xas.xa_node;
    if node.is_null() || (node as usize) & 3 != 0 {
        return None;
    }
    // SAFETY: a node reached by a walk under RCU, which the caller still
    // holds (`XArray::walk`), and which the single writer does not free.
    Some(unsafe { &*node })
}

/// `page_neighbourhood` when the walk stopped at a slot above the leaves
/// (its pages `shift`): empty, with no node below it, or an entry that
/// covers `gfn` (general path). Out of line: the fragmented case is the leaf.
#[inline(never)]
fn above_leaves(gfn: u64, shift: u8, entry: *mut c_void) -> Neighbourhood {
    let base = gfn & !(pages(shift.into()) - 1);
    let last = base + (pages(shift.into()) - 1);
    if entry.is_null() && (gfn == 0 || gfn > base) && gfn < last {
        Neighbourhood::Empty
    } else {
        Neighbourhood::Unknown
    }
}

/// `page_neighbourhood` at the first or last slot of a leaf, where the
/// neighbour on that side lives in another node: the page's own entry, when
/// it is a single page (the slot after it is no sibling). Out of line: the
/// fragmented case is inside the leaf.
#[inline(never)]
fn leaf_edge(node: &bindings::xa_node, offset: usize) -> Neighbourhood {
    // SAFETY: `offset` is a slot of the leaf (the walk's); READ_ONCE of an
    // RCU-protected slot, under the caller's RCU hold.
    let page = unsafe { core::ptr::read_volatile(&node.slots[offset]) };
    if let Some(next) = node.slots.get(offset + 1) {
        // SAFETY: as above.
        let next: *mut c_void = unsafe { core::ptr::read_volatile(next) };
        if enc::is_sibling(next) {
            return Neighbourhood::Unknown;
        }
    }
    if page.is_null() || page == enc::zero_entry() {
        Neighbourhood::Page(0)
    } else if enc::is_value(page) {
        Neighbourhood::Page(enc::to_value(page))
    } else {
        // A sibling, retry or node entry: the general path.
        Neighbourhood::Unknown
    }
}

/// What `XArray::set_in_node` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InNode {
    /// The chunk has the value now, and the store is as a prepared commit
    /// leaves it (runs decomposed into their maximal aligned chunks).
    Stored,
    /// The chunk had the value already: nothing changed.
    Unchanged,
    /// Nothing changed: the SET needs what only the writer does (memory,
    /// entries in other nodes, the kept path, reservations).
    Elsewhere,
}

/// A slot as `set_in_node` sees it, a sibling resolved to its entry.
#[derive(Clone, Copy)]
enum Slot {
    /// Empty.
    Empty,
    /// A reservation (`XA_ZERO_ENTRY`), which reads as empty.
    Zero,
    /// Part of a value entry.
    Value(u64),
    /// A node below, or anything else.
    Other,
}

impl Slot {
    /// The slot `i` of `node`.
    #[inline(always)]
    fn at(node: &bindings::xa_node, i: usize) -> Self {
        let mut entry = node.slots[i];
        if enc::is_sibling(entry) {
            entry = node.slots[enc::to_sibling(entry)];
        }
        if entry.is_null() {
            Slot::Empty
        } else if entry == enc::zero_entry() {
            Slot::Zero
        } else if enc::is_value(entry) {
            Slot::Value(enc::to_value(entry))
        } else {
            Slot::Other
        }
    }

    /// The attributes it reads as: `None` for a node below (its pages may
    /// differ) or anything else.
    #[inline(always)]
    fn value(self) -> Option<u64> {
        match self {
            Slot::Empty | Slot::Zero => Some(0),
            Slot::Value(v) => Some(v),
            Slot::Other => None,
        }
    }
}

/// `set_in_node`'s plan, in slots of the chunk's node: entries to split at
/// `c0` and `c1`, then the chunks of `[a, b)` to store; zero entries if
/// `keep` (the chunk is the node's last use).
struct NodePlan {
    split: [Option<usize>; 2],
    a: usize,
    b: usize,
    keep: bool,
}

/// `XA_CHUNK_SHIFT`: log2 of the slots in a node (a C macro bindgen cannot see).
const XA_CHUNK_SHIFT: u32 = {
    // SAFETY: `xa_node` is plain C data, for which all zeroes is valid.
    let node: bindings::xa_node = unsafe { core::mem::zeroed() };
    node.slots.len().trailing_zeros()
};

/// `XA_MARK_0`, which every value entry carries: a search for entries
/// (`next_entry`) skips reservations and the nodes that hold only those
/// (the kept paths) by the nodes' mark bitmaps, not slot by slot.
const VALUE_MARK: bindings::xa_mark_t = 0;

/// `XAS_RESTART`: the state of a walk not yet started.
const XAS_RESTART: usize = 3;
/// `XAS_BOUNDS`: the walk's index is past what the tree covers.
const XAS_BOUNDS: usize = 1;

impl XaState {
    /// `XA_STATE_ORDER(xas, xa, index, order)`, inline: a call to the C
    /// helper costs more than the initialisation on every walk (the KUnit
    /// suite checks both agree, `encodings_match_c`).
    #[inline(always)]
    fn new(xa: &XArray, index: u64, order: u32) -> Self {
        Self::init(xa.inner.get(), index, order)
    }

    #[inline(always)]
    fn init(xa: *mut bindings::xarray, index: u64, order: u32) -> Self {
        let shift = XA_CHUNK_SHIFT;
        Self(bindings::xa_state {
            xa,
            xa_index: ((index >> order) << order) as _,
            xa_shift: (order - order % shift) as u8,
            xa_sibs: ((1u32 << (order % shift)) - 1) as u8,
            xa_offset: 0,
            xa_pad: 0,
            xa_node: XAS_RESTART as *mut bindings::xa_node,
            xa_alloc: core::ptr::null_mut(),
            xa_update: None,
            xa_lru: core::ptr::null_mut(),
        })
    }

    /// Points the state, left at a node by its last store, at the next
    /// chunk `(index, order)` of the same SET: the next `xas_store()` then
    /// walks from the deepest node on the previous chunk's path that holds
    /// the chunk's slot, not from the root (the chunks of a range sit side
    /// by side, most of them in nodes the previous chunk's walk went
    /// through). Any other state (the head, restart, bounds, an error)
    /// restarts from the root, and so does a slot that holds a sibling entry
    /// (a multi-index entry across the chunk, which `prepare()` splits
    /// anyway; the root walk resolves it). The caller has held the xarray's
    /// lock since that store, so the nodes on the path are alive.
    #[inline(always)]
    fn seek(&mut self, index: u64, order: u32) {
        let prev = self.0.xa_index as u64;
        let next = Self::init(self.0.xa, index, order).0;
        let (shift, index) = (u32::from(next.xa_shift), next.xa_index as u64);
        let mut node = self.0.xa_node;
        self.0.xa_index = next.xa_index;
        self.0.xa_shift = next.xa_shift;
        self.0.xa_sibs = next.xa_sibs;
        self.0.xa_node = next.xa_node;
        while !node.is_null() && (node as usize) & 3 == 0 {
            // SAFETY: the node the last store ended at or one of its
            // ancestors, alive under the lock the caller holds.
            let n = unsafe { &*node };
            let span = u32::from(n.shift) + XA_CHUNK_SHIFT;
            if u32::from(n.shift) < shift || index.checked_shr(span) != prev.checked_shr(span) {
                node = n.parent;
                continue;
            }
            let offset = (index >> n.shift) as usize & (n.slots.len() - 1);
            if !enc::is_sibling(n.slots[offset]) {
                self.0.xa_node = node;
                self.0.xa_offset = offset as u8;
            }
            return;
        }
    }

    fn ptr(&mut self) -> *mut bindings::xa_state {
        &mut self.0
    }

    /// After an `xas_store()` of `entry` that succeeded: marks a value
    /// entry with `VALUE_MARK`, clears it from a reservation (an empty slot
    /// has none, `xas_store()` clears them).
    #[inline(always)]
    fn mark(&mut self, entry: *mut c_void) {
        if enc::is_value(entry) {
            // SAFETY: valid state at the entry just stored, lock held.
            unsafe { bindings::xas_set_mark(self.ptr(), VALUE_MARK) };
        } else if !entry.is_null() {
            // SAFETY: as above.
            unsafe { bindings::xas_clear_mark(self.ptr(), VALUE_MARK) };
        }
    }

    /// Order and first index of the entry the state points at.
    fn entry(&mut self, entry: *mut c_void) -> Option<Entry> {
        if entry.is_null() || !enc::is_value(entry) {
            return None;
        }
        // SAFETY: the state points at `entry` (last load or find), in a node kept
        // alive by the lock or RCU; with the lock, or as the only writer under
        // RCU, its sibling slots are stable (beside a writer, RCU may see them
        // half rewritten: an order too small or too large, still in the node).
        let order = unsafe { bindings::xas_get_order(self.ptr()) } as u32;
        let start = self.0.xa_index as u64 & !(pages(order) - 1);
        let value = enc::to_value(entry);
        Some(Entry {
            start,
            order,
            value,
        })
    }

    fn error(&self) -> Result {
        match enc::err(self.0.xa_node as *const c_void) {
            0 => Ok(()),
            e => Err(Error::from_errno(e)),
        }
    }
}

impl XArray {
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `xa` points at the uninitialised xarray being pinned in place.
            inner <- Opaque::ffi_init(|xa| unsafe { memattr_xa_init(xa) }),
        })
    }

    #[inline(always)]
    fn read(&self, mode: ReadMode) -> ReadGuard<'_> {
        match mode {
            ReadMode::Locked => ReadGuard::Locked(self.lock()),
            ReadMode::Rcu => {
                // SAFETY: no precondition; released by the guard's drop.
                unsafe { memattr_rcu_read_lock() };
                ReadGuard::Rcu
            }
        }
    }

    #[inline(always)]
    fn lock(&self) -> Guard<'_> {
        // SAFETY: the xarray is initialised (type invariant).
        unsafe { memattr_xa_lock(self.inner.get()) };
        Guard(self)
    }

    /// The `struct xarray`, for KVM's own lookups (`xa_load()`), valid while
    /// `self` lives (pinned).
    pub(crate) fn as_ptr(&self) -> *mut bindings::xarray {
        self.inner.get()
    }

    /// The attributes at `gfn`: a lock-free RCU lookup (`xa_load`), as KVM
    /// makes on the fault path (KUnit: KVM makes its own).
    #[cfg(CONFIG_KUNIT)]
    pub(crate) fn load(&self, gfn: u64) -> u64 {
        // SAFETY: the xarray is initialised; `xa_load` takes the RCU read lock.
        let entry = unsafe { bindings::xa_load(self.inner.get(), gfn as _) };
        // Zero entries (reservations) are not values: they read as 0.
        if !entry.is_null() && enc::is_value(entry) {
            enc::to_value(entry)
        } else {
            0
        }
    }

    /// The value entry covering `gfn`.
    pub(crate) fn entry_at(&self, gfn: u64, mode: ReadMode) -> Option<Entry> {
        let mut xas = XaState::new(self, gfn, 0);
        let _guard = self.read(mode);
        loop {
            // SAFETY: valid state, lock or RCU held.
            let entry = unsafe { bindings::xas_load(xas.ptr()) };
            // A reservation reads as "no entry". `xas_retry()` must not see it:
            // it only resets the state for retry entries, so the next load
            // would return the same zero entry forever (under the lock).
            if entry == enc::zero_entry() {
                return None;
            }
            // A retry entry (a node freed under an RCU reader): walk again.
            // SAFETY: as above.
            if !unsafe { memattr_xas_retry(xas.ptr(), entry) } {
                return xas.entry(entry);
            }
        }
    }

    /// The first value entry intersecting `[from, last]`.
    pub(crate) fn next_entry(&self, from: u64, last: u64, mode: ReadMode) -> Option<Entry> {
        let mut xas = XaState::new(self, from, 0);
        let _guard = self.read(mode);
        loop {
            // SAFETY: valid state, lock or RCU held.
            let entry = unsafe { bindings::xas_find_marked(xas.ptr(), last as _, VALUE_MARK) };
            if entry.is_null() {
                return None;
            }
            // Reservations (zero entries, unmarked) and retry entries are
            // skipped.
            // SAFETY: as above.
            if !unsafe { memattr_xas_retry(xas.ptr(), entry) } {
                return xas.entry(entry);
            }
        }
    }

    /// Replaces `e` by its two halves with the same value. Readers see no change.
    pub(crate) fn split(&self, e: Entry, gfp: bindings::gfp_t) -> Result {
        let value = enc::mk_value(e.value);
        let mut xas = XaState::new(self, e.start, e.order - 1);
        // Allocates the child node when the halves live one level down, nothing
        // when they stay in the entry's node.
        // SAFETY: valid state; `value` is the entry's own value.
        unsafe { bindings::xas_split_alloc(xas.ptr(), value, e.order, gfp) };
        xas.error()?;
        let _guard = self.lock();
        // SAFETY: lock held; the caller is the only writer, so the entry that the
        // allocation was sized for is still there.
        unsafe { bindings::xas_split(xas.ptr(), value, e.order) };
        Ok(())
    }

    /// Stores `value` (0 erases) over each chunk, in order, under one hold
    /// of the lock; an allocation a store still needs uses `gfp`, which must
    /// not sleep. On failure returns the start of the chunk not stored (the
    /// chunks before it are).
    #[inline(always)]
    pub(crate) fn store_chunks(
        &self,
        chunks: impl Iterator<Item = (u64, u32)>,
        value: u64,
        gfp: bindings::gfp_t,
    ) -> core::result::Result<(), u64> {
        let entry = if value == 0 {
            core::ptr::null_mut()
        } else {
            enc::mk_value(value)
        };
        let _guard = self.lock();
        let mut xas = XaState::new(self, 0, 0);
        for (start, order) in chunks {
            xas.seek(start, order);
            loop {
                // SAFETY: valid state, lock held, `entry` is NULL or a value.
                unsafe { bindings::xas_store(xas.ptr(), entry) };
                if xas.error().is_ok() {
                    xas.mark(entry);
                }
                // A non-sleeping allocation under the lock, and a retry, or
                // nothing to do.
                // SAFETY: valid state; `gfp` does not sleep.
                if !unsafe { bindings::xas_nomem(xas.ptr(), gfp) } {
                    break;
                }
            }
            if xas.error().is_err() {
                return Err(start);
            }
        }
        Ok(())
    }

    /// The kernel's `xa_store_range()` of `value` (0 erases) over
    /// `[first, last]`: one walk from the root per entry it stores, each a
    /// run of slots in one node. For the KUnit benchmark's baseline.
    #[cfg(CONFIG_KUNIT)]
    pub(crate) fn store_range_walks(
        &self,
        first: u64,
        last: u64,
        value: u64,
        gfp: bindings::gfp_t,
    ) -> Result {
        let entry = if value == 0 {
            core::ptr::null_mut()
        } else {
            enc::mk_value(value)
        };
        // SAFETY: the xarray is initialised (type invariant); the function
        // takes its lock; `entry` is NULL or a value.
        let r = unsafe {
            bindings::xa_store_range(self.inner.get(), first as _, last as _, entry, gfp)
        };
        match enc::err(r) {
            0 => Ok(()),
            e => Err(Error::from_errno(e)),
        }
    }

    fn store_raw(
        &self,
        start: u64,
        order: u32,
        entry: *mut c_void,
        gfp: bindings::gfp_t,
    ) -> Result {
        let mut xas = XaState::new(self, start, order);
        loop {
            {
                let _guard = self.lock();
                // SAFETY: valid state, lock held, `entry` is NULL, a value or XA_ZERO_ENTRY.
                unsafe { bindings::xas_store(xas.ptr(), entry) };
                if xas.error().is_ok() {
                    xas.mark(entry);
                }
            }
            // Allocates outside the lock and asks for a retry, or frees leftovers.
            // SAFETY: valid state, lock not held.
            if !unsafe { bindings::xas_nomem(xas.ptr(), gfp) } {
                break;
            }
        }
        xas.error()
    }

    /// Walks under RCU to the node that holds the slots of the chunk
    /// `(start, order)` and gives it, with the chunk's offset in it, to `f`.
    /// `None` when that node does not exist: the walk ended higher (nodes to
    /// allocate), at the head (NULL) or out of bounds (an internal entry,
    /// low bits 0b10). For the single writer, under whom nodes neither appear
    /// nor go away until it stores.
    #[inline(always)]
    fn with_slot_node<R>(
        &self,
        start: u64,
        order: u32,
        f: impl FnOnce(&bindings::xa_node, usize) -> Option<R>,
    ) -> Option<R> {
        self.walk(start, order, |_, xas| {
            // xas_load() stops at the deepest node whose shift is at least
            // the chunk's; its shift equals the chunk's exactly when the
            // slots exist.
            let node = xas_node(xas)?;
            if node.shift != xas.xa_shift {
                return None;
            }
            f(node, xas.xa_offset as usize)
        })
    }

    /// `xas_load()` of the chunk `(start, order)` under RCU: `f` gets the
    /// entry and the state the walk ended in, with RCU still held.
    #[inline(always)]
    fn walk<R>(
        &self,
        start: u64,
        order: u32,
        f: impl FnOnce(*mut c_void, &bindings::xa_state) -> R,
    ) -> R {
        let mut xas = XaState::new(self, start, order);
        let _guard = self.read(ReadMode::Rcu);
        // SAFETY: valid state, RCU held.
        let entry = unsafe { bindings::xas_load(xas.ptr()) };
        f(entry, &xas.0)
    }

    /// The node that holds the slots of the chunk `(start, order)`, if it
    /// exists: then a store over the chunk needs no allocation.
    pub(crate) fn slot_node(&self, start: u64, order: u32) -> Option<SlotNode> {
        self.with_slot_node(start, order, |node, _| {
            let chunk_shift = node.slots.len().trailing_zeros();
            let span_order = u32::from(node.shift) + chunk_shift;
            let first = start & !(pages(span_order) - 1);
            Some(SlotNode {
                shift: node.shift.into(),
                chunk_shift,
                first,
                last: first + (pages(span_order) - 1),
            })
        })
    }

    /// What one RCU walk to `gfn` tells of it and its neighbours, for
    /// `RangeStore::page_neighbourhood`: their values when all three sit in
    /// one existing leaf node and each slot is empty, a reservation or a
    /// value entry (no multi-index entry crosses `gfn`'s boundaries); the
    /// page's alone at an edge of its leaf node (`leaf_edge`); no
    /// entry at all when the walk ends at an empty slot above the leaves
    /// whose range holds all three, or beyond the tree; `Unknown` otherwise.
    #[inline(always)]
    pub(crate) fn page_neighbourhood(&self, gfn: u64) -> Neighbourhood {
        self.walk(gfn, 0, |entry, xas| {
            if xas.xa_node as usize == XAS_BOUNDS {
                return self.beyond_tree(gfn);
            }
            let Some(node) = xas_node(xas) else {
                return Neighbourhood::Unknown;
            };
            if node.shift != 0 {
                return above_leaves(gfn, node.shift, entry);
            }
            let offset = xas.xa_offset as usize;
            if offset == 0 || offset + 1 >= node.slots.len() {
                return leaf_edge(node, offset);
            }
            let zero = enc::zero_entry();
            let mut values = [0; 3];
            for (i, v) in values.iter_mut().enumerate() {
                // SAFETY: in bounds (checked above); READ_ONCE of an RCU-protected slot.
                let entry = unsafe { core::ptr::read_volatile(&node.slots[offset + i - 1]) };
                if entry.is_null() || entry == zero {
                    continue;
                }
                // A sibling, retry or node entry: a multi-index entry or a
                // change the general path handles.
                if !enc::is_value(entry) {
                    return Neighbourhood::Unknown;
                }
                *v = enc::to_value(entry);
            }
            Neighbourhood::Leaf(values)
        })
    }

    /// `page_neighbourhood` of a `gfn` past what the tree covers: `Empty`
    /// when `gfn - 1` is past it too.
    #[inline(never)]
    fn beyond_tree(&self, gfn: u64) -> Neighbourhood {
        // SAFETY: the xarray is initialised (type invariant); the head is
        // only compared and, when a node, read under the caller's RCU hold.
        let head = unsafe { memattr_xa_head(self.inner.get()) };
        let covered = if head.is_null() {
            0
        // SAFETY: as above.
        } else if unsafe { memattr_xa_is_node(head) } {
            // SAFETY: a node head, alive under RCU.
            let top = unsafe { &*memattr_xa_to_node(head) };
            pages(u32::from(top.shift) + XA_CHUNK_SHIFT)
        } else {
            1
        };
        if gfn > covered {
            Neighbourhood::Empty
        } else {
            Neighbourhood::Unknown
        }
    }

    /// If no value entry intersects the chunk, creates the nodes a later
    /// value store over it needs (an `XA_ZERO_ENTRY`, which reads as empty)
    /// and returns true; returns false if the chunk holds entries.
    /// `before_alloc` runs once, before anything is stored.
    pub(crate) fn reserve_if_empty(
        &self,
        start: u64,
        order: u32,
        gfp: bindings::gfp_t,
        before_alloc: impl FnOnce() -> Result,
    ) -> Result<bool> {
        let last = start + pages(order) - 1;
        let mut before_alloc = Some(before_alloc);
        let mut xas = XaState::new(self, start, order);
        loop {
            {
                let _guard = self.lock();
                // The whole chunk must be searched: a load at the chunk's order
                // only sees its first slot when the chunk shares a node.
                let mut probe = XaState::new(self, start, 0);
                loop {
                    // SAFETY: valid state, lock held.
                    let entry = unsafe { bindings::xas_find(probe.ptr(), last as _) };
                    if entry.is_null() {
                        break;
                    }
                    // Reservations (zero entries) do not count as entries.
                    // SAFETY: as above.
                    if !unsafe { memattr_xas_retry(probe.ptr(), entry) } {
                        return Ok(false);
                    }
                }
                if let Some(f) = before_alloc.take() {
                    f()?;
                }
                // SAFETY: valid state, lock held; the chunk holds no value.
                unsafe { bindings::xas_store(xas.ptr(), enc::zero_entry()) };
            }
            // Allocates outside the lock and asks for a retry, or frees leftovers.
            // SAFETY: valid state, lock not held.
            if !unsafe { bindings::xas_nomem(xas.ptr(), gfp) } {
                break;
            }
        }
        xas.error().map(|()| true)
    }

    /// Erases the entry at `index` if it is still a reservation (`XA_ZERO_ENTRY`).
    pub(crate) fn erase_reservation(&self, index: u64) {
        let mut xas = XaState::new(self, index, 0);
        let _guard = self.lock();
        // SAFETY: valid state, lock held.
        let entry = unsafe { bindings::xas_load(xas.ptr()) };
        if entry == enc::zero_entry() {
            // SAFETY: lock held, the state points at the entry just loaded;
            // erasing never allocates.
            unsafe { bindings::xas_store(xas.ptr(), core::ptr::null_mut()) };
        }
    }

    /// Erases the aligned chunk `(start, order)`, prepared (no entry
    /// straddles its ends), or keeps the node that holds its slots: when
    /// nothing else in that node is in use, so that a NULL store would free
    /// it and maybe its parents, stores an `XA_ZERO_ENTRY` over the chunk
    /// instead (read as empty) and returns true. Never allocates.
    pub(crate) fn clear_keeping_node(&self, start: u64, order: u32) -> bool {
        let mut xas = XaState::new(self, start, order);
        let _guard = self.lock();
        // SAFETY: valid state, lock held.
        unsafe { bindings::xas_load(xas.ptr()) };
        let (shift, first, last) = (
            xas.0.xa_shift,
            usize::from(xas.0.xa_offset),
            usize::from(xas.0.xa_offset) + usize::from(xas.0.xa_sibs),
        );
        let keep = xas_node(&xas.0).is_some_and(|node| {
            node.shift == shift
                && node.slots[first..=last]
                    .iter()
                    .filter(|slot| !slot.is_null())
                    .count()
                    == usize::from(node.count)
        });
        let entry = if keep {
            enc::zero_entry()
        } else {
            core::ptr::null_mut()
        };
        // SAFETY: the state points at the chunk's first slot (the load
        // above), lock held; over slots that exist, neither entry allocates.
        unsafe { bindings::xas_store(xas.ptr(), entry) };
        xas.mark(entry);
        keep
    }

    /// Erases the `XA_ZERO_ENTRY` of the chunk `(start, order)` that
    /// `clear_keeping_node()` stored, if it is still there, whole: nodes no
    /// longer in use are freed.
    pub(crate) fn erase_kept(&self, start: u64, order: u32) {
        let _guard = self.lock();
        self.erase_kept_locked(start, order);
    }

    /// `erase_kept` with the lock held.
    fn erase_kept_locked(&self, start: u64, order: u32) {
        let mut xas = XaState::new(self, start, order);
        // SAFETY: valid state, the caller holds the lock.
        let entry = unsafe { bindings::xas_load(xas.ptr()) };
        let shift = xas.0.xa_shift;
        if entry != enc::zero_entry() || !xas_node(&xas.0).is_some_and(|n| n.shift == shift) {
            return;
        }
        // SAFETY: the state points at the zero entry just loaded, in a node
        // (checked above), lock held.
        if unsafe { bindings::xas_get_order(xas.ptr()) } as u32 == order {
            // SAFETY: as above; erasing never allocates.
            unsafe { bindings::xas_store(xas.ptr(), core::ptr::null_mut()) };
        }
    }

    /// A SET of the aligned chunk `(start, order)` (a page, or more), done
    /// whole under one hold of the xarray's lock, or not at all: beside
    /// other such SETs, where `prepare()` and `commit()` plan from the tree
    /// as the only writer. It does what they would do (the runs the chunk
    /// joins or leaves decomposed into their maximal aligned chunks), when
    /// all of it lies in the node that holds the chunk's slots: the chunk
    /// holds no reservation and no node below, and a run the value joins
    /// ends inside the node, or at its edge where the next page differs.
    /// It splits entries across the chunk's ends first (readers see the
    /// same values), then stores the chunks of the run, or of the chunk,
    /// inside `rewriting`, which must call its argument once. A chunk whose
    /// node does not exist yet is stored alone where nothing around it has
    /// the value, its nodes allocated without sleeping (`set_in_new_node`).
    /// A clear that would leave its node with nothing in use keeps it, as
    /// the writer does (`clear_keeping_node`): `keep` records the chunk and
    /// returns a kept path to free. `Elsewhere` whenever `busy()`, which it
    /// asks first under the lock.
    pub(crate) fn set_in_node(
        &self,
        start: u64,
        order: u32,
        value: u64,
        busy: impl FnOnce() -> bool,
        keep: impl FnOnce(u64, u32) -> Option<(u64, u32)>,
        rewriting: impl FnOnce(&mut dyn FnMut()),
    ) -> InNode {
        let mut xas = XaState::new(self, start, order);
        let _guard = self.lock();
        if busy() {
            return InNode::Elsewhere;
        }
        // SAFETY: valid state, lock held.
        let found = unsafe { bindings::xas_load(xas.ptr()) };
        let node_ptr = xas.0.xa_node;
        let Some(node) = xas_node(&xas.0).filter(|n| n.shift == xas.0.xa_shift) else {
            return self.set_in_new_node(xas, found, start, order, value, rewriting);
        };
        let shift = u32::from(node.shift);
        let base = start & !(pages(shift + XA_CHUNK_SHIFT) - 1);
        let c0 = ((start - base) >> shift) as usize;
        let c1 = c0 + (1 << (order - shift));
        let Some(plan) = self.plan_in_node(node, base, shift, c0, c1, value) else {
            return InNode::Elsewhere;
        };
        let Some(plan) = plan else {
            return InNode::Unchanged;
        };
        let entry = if plan.keep {
            enc::zero_entry()
        } else if value == 0 {
            core::ptr::null_mut()
        } else {
            enc::mk_value(value)
        };
        let page = |slot: usize| base + ((slot as u64) << shift);
        rewriting(&mut || {
            for at in plan.split.into_iter().flatten() {
                // Halve the entry across `at` until one ends there.
                loop {
                    // SAFETY: the node is alive under the lock; no
                    // reference to it is held across the split below.
                    let slot = unsafe { (*node_ptr).slots[at] };
                    if !enc::is_sibling(slot) {
                        break;
                    }
                    let first = enc::to_sibling(slot);
                    // SAFETY: as above.
                    let n = unsafe { &*node_ptr };
                    let mut end = first + 1;
                    while end < n.slots.len() && n.slots[end] == slot {
                        end += 1;
                    }
                    let old = (end - first).trailing_zeros() + shift;
                    let old_entry = n.slots[first];
                    let mut half = XaState::new(self, page(first), old - 1);
                    // SAFETY: lock held; the halves stay in this node (no
                    // allocation); `old_entry` is the entry's own value.
                    unsafe { bindings::xas_split(half.ptr(), old_entry, old) };
                }
            }
            for (first, chunk_order) in crate::memattr_core::chunks(plan.a as u64, plan.b as u64) {
                // From the node the walk found, not the root.
                xas.seek(page(first as usize), chunk_order + shift);
                // SAFETY: valid state, lock held; the chunk starts where no
                // entry straddles (split above, or a run's edge) and its
                // slots are in this node: no allocation. A zero entry over
                // the chunk (`plan.keep`) keeps the node from going empty.
                unsafe { bindings::xas_store(xas.ptr(), entry) };
                if xas.error().is_err() {
                    // SAFETY: plain WARN_ON_ONCE(1).
                    unsafe { memattr_warn() };
                } else {
                    xas.mark(entry);
                }
            }
        });
        if plan.keep {
            if let Some((start, order)) = keep(start, order) {
                self.erase_kept_locked(start, order);
            }
        }
        InNode::Stored
    }

    /// `set_in_node` of a chunk whose slots' node does not exist (the walk,
    /// left in `xas`, ended above it, at `found`): nothing to clear, and a
    /// SET only where no entry covers the chunk and the pages on either side
    /// have other values (nothing to merge). The nodes come from atomic
    /// allocations; should one fail, the SET goes `Elsewhere` (a node
    /// already added stays, empty, for the writer's store to use).
    fn set_in_new_node(
        &self,
        mut xas: XaState,
        found: *mut c_void,
        start: u64,
        order: u32,
        value: u64,
        rewriting: impl FnOnce(&mut dyn FnMut()),
    ) -> InNode {
        if !found.is_null() {
            return InNode::Elsewhere;
        }
        if value == 0 {
            return InNode::Unchanged;
        }
        let other =
            |gfn: Option<u64>| gfn.map_or(Some(true), |g| Some(self.value_locked(g)? != value));
        if other(start.checked_sub(1)) != Some(true)
            || other(start.checked_add(pages(order))) != Some(true)
        {
            return InNode::Elsewhere;
        }
        let entry = enc::mk_value(value);
        rewriting(&mut || loop {
            // SAFETY: valid state, lock held, a value entry.
            unsafe { bindings::xas_store(xas.ptr(), entry) };
            if xas.error().is_ok() {
                xas.mark(entry);
            }
            // SAFETY: valid state; GFP_NOWAIT does not sleep.
            if !unsafe { bindings::xas_nomem(xas.ptr(), bindings::GFP_NOWAIT) } {
                break;
            }
        });
        if xas.error().is_err() {
            return InNode::Elsewhere;
        }
        InNode::Stored
    }

    /// `set_in_node`'s plan for the chunk in slots `[c0, c1)` of `node`:
    /// `None` if it must go elsewhere, `Some(None)` if nothing changes.
    #[inline(always)]
    fn plan_in_node(
        &self,
        node: &bindings::xa_node,
        base: u64,
        shift: u32,
        c0: usize,
        c1: usize,
        value: u64,
    ) -> Option<Option<NodePlan>> {
        let slots = node.slots.len();
        let mut same = true;
        let mut used = 0;
        for i in c0..c1 {
            match Slot::at(node, i) {
                Slot::Zero | Slot::Other => return None,
                Slot::Empty => same &= value == 0,
                Slot::Value(v) => {
                    used += 1;
                    same &= v == value;
                }
            }
        }
        if same {
            return Some(None);
        }
        // An entry across an end: its slot there is a sibling.
        let across = |at: usize| (at < slots && enc::is_sibling(node.slots[at])).then_some(at);
        if value == 0 {
            let split = [across(c0), across(c1)];
            return Some(Some(NodePlan {
                split,
                a: c0,
                b: c1,
                // The clear would empty the node: keep it.
                keep: split == [None, None] && used == usize::from(node.count),
            }));
        }
        // The run of `value` the chunk joins, in this node; past its edges
        // only when the next page differs.
        let mut a = c0;
        while a > 0 && Slot::at(node, a - 1).value()? == value {
            a -= 1;
        }
        let mut b = c1;
        while b < slots && Slot::at(node, b).value()? == value {
            b += 1;
        }
        let span = pages(shift + XA_CHUNK_SHIFT);
        let next = |gfn: Option<u64>| gfn.map_or(Some(0), |g| self.value_locked(g));
        if (a == 0 && next(base.checked_sub(1))? == value)
            || (b == slots && next(base.checked_add(span))? == value)
        {
            return None;
        }
        Some(Some(NodePlan {
            split: [
                across(c0).filter(|_| a == c0),
                across(c1).filter(|_| b == c1),
            ],
            a,
            b,
            keep: false,
        }))
    }

    /// The attributes of `gfn`, with the lock held; `None` if the walk
    /// ends at something other than a value, a reservation or nothing.
    fn value_locked(&self, gfn: u64) -> Option<u64> {
        let mut xas = XaState::new(self, gfn, 0);
        // SAFETY: valid state; the caller holds the lock.
        let entry = unsafe { bindings::xas_load(xas.ptr()) };
        if entry.is_null() || entry == enc::zero_entry() {
            Some(0)
        } else if enc::is_value(entry) {
            Some(enc::to_value(entry))
        } else {
            None
        }
    }

    /// Runs `f` under the xarray's lock, which orders it with
    /// `set_in_node`.
    pub(crate) fn locked<R>(&self, f: impl FnOnce() -> R) -> R {
        let _guard = self.lock();
        f()
    }

    /// Stores `value` (0 erases) over an aligned chunk.
    pub(crate) fn store(&self, start: u64, order: u32, value: u64, gfp: bindings::gfp_t) -> Result {
        let entry = if value == 0 {
            core::ptr::null_mut()
        } else {
            enc::mk_value(value)
        };
        self.store_raw(start, order, entry, gfp)
    }

    /// (value entries, nodes), by walking the whole tree. A fragmented map
    /// has millions of nodes, so the walk reschedules instead of holding the
    /// xarray's spinlock throughout.
    ///
    /// # Safety
    ///
    /// Nothing modifies the array during the call: the caller is its only
    /// writer (for a VM's store, holds `kvm->memattr_store_lock`) and may sleep.
    pub(crate) unsafe fn count(&self) -> (u64, u64) {
        fn walk(entry: *mut c_void, counts: &mut (u64, u64)) {
            // SAFETY: `entry` is a slot's content; the tree does not change
            // during the walk (the caller's contract).
            if unsafe { memattr_xa_is_node(entry) } {
                counts.1 += 1;
                if counts.1 % 1024 == 0 {
                    // SAFETY: the caller may sleep; no lock of ours is held.
                    unsafe { memattr_cond_resched() };
                }
                // SAFETY: a node entry points at a live node, which is not
                // freed while nothing modifies the array.
                let node = unsafe { &*memattr_xa_to_node(entry) };
                for slot in node.slots.iter() {
                    walk(*slot, counts);
                }
            } else if !entry.is_null() && enc::is_value(entry) {
                counts.0 += 1;
            }
        }
        let mut counts = (0, 0);
        // SAFETY: the head of an initialised xarray, which does not change.
        walk(unsafe { memattr_xa_head(self.inner.get()) }, &mut counts);
        counts
    }
}

#[pinned_drop]
impl PinnedDrop for XArray {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: initialised (type invariant); no user is left when the owner
        // drops it. Frees every node.
        unsafe { bindings::xa_destroy(self.inner.get()) };
    }
}
