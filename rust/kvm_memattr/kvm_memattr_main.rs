// SPDX-License-Identifier: GPL-2.0

//! kvm_memattr: KVM's per-gfn memory attributes, stored as ranges.
//!
//! Registers a `struct kvm_memattr_ops` ([`include/linux/kvm_memattr_ops.h`],
//! added by `patches/0002`). VMs created while the module is loaded keep their
//! attributes here instead of in upstream's one-entry-per-4-KiB xarray: a run
//! of equal attributes is a handful of aligned multi-index xarray entries, so
//! memory and SET time grow with the number of runs, not pages. Lookups on the
//! fault path are lock-free `xa_load()`s, which KVM makes itself on the
//! store's xarray (`lookup_array`).
//!
//! The algorithm lives in [`memattr_core`] (shared with the host tests); this
//! file is the glue: uAPI parsing, the ops callbacks, per-VM counters and the
//! entry points of the KUnit suite (`kunit.c`).
//!
//! [`include/linux/kvm_memattr_ops.h`]: srctree/include/linux/kvm_memattr_ops.h

use core::cell::UnsafeCell;
use core::ffi::{c_int, c_uint, c_void};
#[cfg(CONFIG_KUNIT)]
use core::sync::atomic::AtomicU32;
use core::sync::atomic::{fence, AtomicBool, AtomicU64, Ordering};
use kernel::bindings;
use kernel::error::to_result;
use kernel::prelude::*;
use kernel::types::{AsBytes, FromBytes};
use kernel::uaccess::UserSlice;

// The host crate's public API, compiled into the module: not every item is
// used here, and its crate-level `#![no_std]` is moot inside a module.
#[allow(unused_attributes, unreachable_pub, dead_code)]
#[path = "../memattr_core/src/lib.rs"]
mod memattr_core;
#[cfg(CONFIG_KUNIT)]
mod selftest;
mod xa;

use memattr_core::{
    pages, Caps, Entry, GfnRange, MemoryAttributes, Neighbourhood, Plan, RangeStore,
};

module! {
    type: KvmMemattr,
    name: "kvm_memattr",
    author: "kvm-memattr developers",
    description: "Range-native memory-attribute store for KVM",
    license: "GPL",
}

/// The MMU enforces NR/NW/NX (patches/0004), so they are accepted and advertised.
const RWX_ENFORCED: bool = true;

// The uAPI memattr_core implements (and the host tests and the VMM crate use)
// is the one in the kernel's headers: checked when the module is built.
const _: () = {
    use core::mem::{offset_of, size_of};
    use kernel::bindings as b;
    assert!(memattr_core::ATTR_PRIVATE == b::KVM_MEMORY_ATTRIBUTE_PRIVATE as u64);
    assert!(memattr_core::ATTR_NR == b::KVM_MEMORY_ATTRIBUTE_NR as u64);
    assert!(memattr_core::ATTR_NW == b::KVM_MEMORY_ATTRIBUTE_NW as u64);
    assert!(memattr_core::ATTR_NX == b::KVM_MEMORY_ATTRIBUTE_NX as u64);
    assert!(memattr_core::KVM_SET_MEMORY_ATTRIBUTES == b::KVM_SET_MEMORY_ATTRIBUTES);
    assert!(memattr_core::KVM_GET_MEMORY_ATTRIBUTES == b::KVM_GET_MEMORY_ATTRIBUTES);
    assert!(memattr_core::PAGE_SHIFT == b::PAGE_SHIFT);
    assert!(size_of::<MemoryAttributes>() == size_of::<b::kvm_memory_attributes>());
    assert!(offset_of!(MemoryAttributes, address) == offset_of!(b::kvm_memory_attributes, address));
    assert!(offset_of!(MemoryAttributes, size) == offset_of!(b::kvm_memory_attributes, size));
    assert!(
        offset_of!(MemoryAttributes, attributes)
            == offset_of!(b::kvm_memory_attributes, attributes)
    );
    assert!(offset_of!(MemoryAttributes, flags) == offset_of!(b::kvm_memory_attributes, flags));
};

// SAFETY: `struct kvm_memory_attributes` is four `__u64`s: any bit pattern is valid.
unsafe impl FromBytes for MemoryAttributes {}
// SAFETY: four `u64`s, no padding.
unsafe impl AsBytes for MemoryAttributes {}

/// Test hook of the KUnit suite: fails the n-th store allocation from now.
/// Without KUnit it has no state and never fails, so production VMs carry
/// no test code.
struct FailHook {
    #[cfg(CONFIG_KUNIT)]
    fail_in: AtomicU32,
}

impl FailHook {
    fn new() -> Self {
        Self {
            #[cfg(CONFIG_KUNIT)]
            fail_in: AtomicU32::new(0),
        }
    }

    /// Fail the `n`-th allocation from now (0: none).
    #[cfg(CONFIG_KUNIT)]
    fn arm(&self, n: u32) {
        self.fail_in.store(n, Ordering::Relaxed);
    }

    #[cfg(not(CONFIG_KUNIT))]
    #[inline(always)]
    fn check(&self) -> Result {
        Ok(())
    }

    #[cfg(CONFIG_KUNIT)]
    fn check(&self) -> Result {
        let n = self.fail_in.load(Ordering::Relaxed);
        if n > 0 {
            self.fail_in.store(n - 1, Ordering::Relaxed);
            if n == 1 {
                return Err(ENOMEM);
            }
        }
        Ok(())
    }
}

/// Per-VM state: the range store and its counters.
///
/// # Invariants
///
/// `plan` and `guard` are only accessed by the single writer, which holds
/// `kvm->memattr_store_lock` from `prepare` to `commit` (or, for stores
/// without a VM, is the only user of the store). Without it, SETs change
/// the store in `try_set`, each under one hold of the xarray's lock (which
/// orders their updates of `seq`, the counters and `kept`), leaving the
/// kept paths' zero entries alone, and only while `writing` is false: the
/// writer sets it under the xarray's lock before anything else and clears
/// it once done, so that it is the only writer meanwhile (and the only one
/// to touch `kept`).
#[pin_data]
struct Store {
    #[pin]
    xa: xa::XArray,
    kvm: *mut bindings::kvm,
    /// What SET accepts: fixed when the VM is created (the vendor module,
    /// which decides execute-only, is loaded by then).
    caps: Caps,
    plan: UnsafeCell<Option<Plan>>,
    /// Index of a reservation that only makes the tree tall enough (see `reserve`).
    guard: UnsafeCell<Option<u64>>,
    /// The chunk whose clear left a zero entry to keep its nodes, if any
    /// (`Writer::store_range`), the latest first: the store's kept empty
    /// paths.
    kept: UnsafeCell<[Option<(u64, u32)>; KEPT]>,
    /// Odd while the writer (or a `try_set`) rewrites entries (values or
    /// orders: stores and splits): a walk under RCU alone that saw it even
    /// and unchanged saw no entry half rewritten (`Store::range_has`).
    seq: AtomicU64,
    /// True from the start of a `prepare` to its `commit` (or failure), and
    /// during `stats`: `try_set` leaves the store alone. Changed and read
    /// under the xarray's lock.
    writing: AtomicBool,
    /// The KUnit suite's allocation-failure hook (empty without KUnit).
    fail: FailHook,
    set_calls: AtomicU64,
    pages_changed: AtomicU64,
}

// SAFETY: the xarray is internally locked; `plan` is only touched by the writer
// (type invariant); `kvm` is only passed back to KVM.
unsafe impl Sync for Store {}
// SAFETY: as above, nothing is tied to the creating thread.
unsafe impl Send for Store {}

/// How many empty paths of nodes a store keeps (`Writer::store_range`).
pub(crate) const KEPT: usize = 4;

const GFP: bindings::gfp_t = bindings::GFP_KERNEL_ACCOUNT;

impl Store {
    fn new(kvm: *mut bindings::kvm, has_private_mem: bool) -> impl PinInit<Self> {
        pin_init!(Self {
            xa <- xa::XArray::new(),
            kvm,
            caps: Caps {
                supported: memattr_core::supported_attrs(has_private_mem, RWX_ENFORCED),
                // SAFETY: reads KVM's MMU masks, fixed once kvm_intel/kvm_amd loaded.
                exec_only: unsafe { bindings::kvm_memattr_exec_only() },
            },
            plan: UnsafeCell::new(None),
            guard: UnsafeCell::new(None),
            kept: UnsafeCell::new([None; KEPT]),
            seq: AtomicU64::new(0),
            writing: AtomicBool::new(false),
            fail: FailHook::new(),
            set_calls: AtomicU64::new(0),
            pages_changed: AtomicU64::new(0),
        })
    }

    /// The writer's view; asserts the writer lock.
    #[inline(always)]
    fn writer(&self) -> Writer<'_> {
        // lockdep_assert_held() is empty without lockdep: skip the call too.
        #[cfg(CONFIG_LOCKDEP)]
        if !self.kvm.is_null() {
            // SAFETY: `kvm` is the live VM that owns this store.
            unsafe { bindings::kvm_memattr_assert_writer(self.kvm) };
        }
        Writer(self, None)
    }

    fn reader(&self) -> Reader<'_> {
        Reader(self, xa::ReadMode::Locked)
    }

    /// Runs `f`, which rewrites entries, with `seq` odd. Writers are
    /// serialised (the writer alone, or `try_set`s under the xarray's lock:
    /// type invariant), so a plain load and store suffice.
    #[inline(always)]
    fn rewriting<R>(&self, f: impl FnOnce() -> R) -> R {
        let v = self.seq.load(Ordering::Relaxed);
        self.seq.store(v + 1, Ordering::Relaxed);
        // Pairs with the reader's acquire fence: a reader that sees any
        // store of the rewrite sees `seq` odd (or past it) after its walk.
        fence(Ordering::Release);
        let r = f();
        self.seq.store(v + 2, Ordering::Release);
        r
    }

    /// True if every gfn of `range` has `(attributes & mask) == attrs`,
    /// beside a writer (KVM's range queries, `ops_range_has()`). First a
    /// walk under RCU alone, which waits for no other SET's store. Beside
    /// a rewrite it may see an entry's slots half rewritten; a no can then
    /// be wrong only beside such a store (a SET zaps and finds nothing to
    /// do under the store lock; a hugepage stays mapped small until a SET
    /// next recomputes it). A yes stands if no rewrite began or ended
    /// during the walk (`seq`), else it is confirmed entry by entry under
    /// the xarray's lock, as GET reads.
    fn range_has(&self, range: GfnRange, mask: u64, attrs: u64) -> bool {
        let seq = self.seq.load(Ordering::Acquire);
        if !memattr_core::range_has(&Reader(self, xa::ReadMode::Rcu), range, mask, attrs) {
            return false;
        }
        // Pairs with the release fence of `rewriting`.
        fence(Ordering::Acquire);
        if seq % 2 == 0 && self.seq.load(Ordering::Relaxed) == seq {
            return true;
        }
        memattr_core::range_has(&self.reader(), range, mask, attrs)
    }

    fn injected_failure(&self) -> Result {
        self.fail.check()
    }

    /// prepare(): allocate everything; no visible change on failure. `false`:
    /// the range already has `value`, nothing to commit. Inline in the
    /// callback, as are `commit` and the single-page path below them: under
    /// emulation especially, each call level costs as much as the lookup.
    #[inline(always)]
    fn prepare(&self, range: GfnRange, value: u64) -> Result<bool> {
        let mut w = self.writer();
        self.set_writing(true);
        w.erase_kept_in(range);
        let plan = memattr_core::prepare(&mut w, range, value);
        let todo = matches!(plan, Ok(Some(_)));
        if !todo {
            // No commit() follows.
            self.set_writing(false);
        }
        // SAFETY: writer lock held (type invariant), no other reference to `plan`.
        unsafe { *self.plan.get() = plan? };
        Ok(todo)
    }

    /// Sets or clears `writing`, under the xarray's lock: a `try_set` in
    /// progress ends before a writer begins.
    #[inline(always)]
    fn set_writing(&self, on: bool) {
        self.xa.locked(|| self.writing.store(on, Ordering::Relaxed));
    }

    /// commit(): carry out the plan prepare() made for the same request.
    #[inline(always)]
    fn commit(&self, range: GfnRange, value: u64) {
        let mut w = self.writer();
        // SAFETY: writer lock held (type invariant), no other reference to `plan`.
        let plan = unsafe { (*self.plan.get()).take() };
        match plan {
            Some(p)
                if p.value == value && p.range.start <= range.start && p.range.end >= range.end =>
            {
                memattr_core::commit(&mut w, p);
                // The single writer: no read-modify-write needed.
                let calls = self.set_calls.load(Ordering::Relaxed);
                self.set_calls.store(calls + 1, Ordering::Relaxed);
                let pages = self.pages_changed.load(Ordering::Relaxed);
                self.pages_changed
                    .store(pages + (range.end - range.start), Ordering::Relaxed);
            }
            _ => {
                pr_err!("commit without a matching prepare\n");
                // SAFETY: plain WARN_ON_ONCE(1).
                unsafe { xa::memattr_warn() };
            }
        }
        self.set_writing(false);
    }

    /// try_set(): a SET of one aligned chunk done whole under the xarray's
    /// lock alone, beside other such SETs, when everything it changes lies
    /// in one node (`XArray::set_in_node`) and no writer is between
    /// `prepare()` and `commit()`. `Some(false)`: nothing to do; `None`: it
    /// needs `prepare()` and `commit()`.
    #[inline(always)]
    fn try_set(&self, range: GfnRange, value: u64) -> Option<bool> {
        let len = range.end.wrapping_sub(range.start);
        // A power of two (so not 0), and the range aligned to it.
        if !len.is_power_of_two() || range.start & len.wrapping_sub(1) != 0 {
            return None;
        }
        let stored = |store: &mut dyn FnMut()| {
            self.rewriting(&mut *store);
            // Under the xarray's lock, which every try_set() holds here,
            // and beside no writer (`writing`): no read-modify-write needed.
            let calls = self.set_calls.load(Ordering::Relaxed);
            self.set_calls.store(calls + 1, Ordering::Relaxed);
            let pages = self.pages_changed.load(Ordering::Relaxed);
            self.pages_changed.store(pages + len, Ordering::Relaxed);
        };
        let busy = || self.writing.load(Ordering::Relaxed);
        let keep = |start, order| {
            // SAFETY: the xarray's lock held with `writing` false (type
            // invariant): no other reference to `kept`.
            let kept = unsafe { &mut *self.kept.get() };
            kept.rotate_right(1);
            kept[0].replace((start, order))
        };
        match self
            .xa
            .set_in_node(range.start, len.trailing_zeros(), value, busy, keep, stored)
        {
            xa::InNode::Stored => Some(true),
            xa::InNode::Unchanged => Some(false),
            xa::InNode::Elsewhere => None,
        }
    }

    /// Counters and a count of the tree; the caller holds the writer lock.
    fn stats(&self) -> bindings::kvm_memattr_stats {
        let _w = self.writer();
        self.set_writing(true);
        // SAFETY: the writer lock (asserted above) and `writing` keep the
        // tree unchanged; stats() is called from process context (debugfs,
        // KUnit).
        let (entries, nodes) = unsafe { self.xa.count() };
        self.set_writing(false);
        bindings::kvm_memattr_stats {
            entries,
            nodes,
            metadata_bytes: nodes * core::mem::size_of::<bindings::xa_node>() as u64,
            set_calls: self.set_calls.load(Ordering::Relaxed),
            pages_changed: self.pages_changed.load(Ordering::Relaxed),
        }
    }
}

/// Read-only access, for lookups and GET: each entry read under the xarray's
/// lock (`Store::reader()`), or under RCU alone (see `ops_range_has()`).
struct Reader<'a>(&'a Store, xa::ReadMode);
/// The single writer (memattr_store_lock held), with the node that held the slots
/// of the chunk it reserved last, while that node is known to exist.
struct Writer<'a>(&'a Store, Option<xa::SlotNode>);

impl RangeStore for Reader<'_> {
    type Error = Error;
    fn entry_at(&self, gfn: u64) -> Option<Entry> {
        self.0.xa.entry_at(gfn, self.1)
    }
    fn next_entry(&self, from: u64, last: u64) -> Option<Entry> {
        self.0.xa.next_entry(from, last, self.1)
    }
    fn split(&mut self, _: Entry) -> Result {
        Err(EPERM)
    }
    fn reserve(&mut self, _: u64, _: u32) -> Result {
        Err(EPERM)
    }
    fn unreserve(&mut self, _: u64, _: u32) {}
    fn release(&mut self) {}
    fn store(&mut self, _: u64, _: u32, _: u64) {}
}

impl Writer<'_> {
    /// Erases the kept path's zero entry before a SET whose range
    /// intersects it, unless the SET is of exactly its chunk (whose store
    /// rewrites the same slots): a store inside a larger zero entry would
    /// rewrite the whole entry. A SET beside it reads it as empty, and a
    /// store over a chunk that holds it replaces it; neither frees a node
    /// that the SET's planning saw.
    #[inline(always)]
    fn erase_kept_in(&mut self, range: GfnRange) {
        // SAFETY: writer lock held (type invariant), no other reference to `kept`.
        let kept = unsafe { &mut *self.0.kept.get() };
        for path in kept.iter_mut() {
            if let Some((start, order)) = *path {
                let end = start + pages(order);
                let exact = range.start == start && range.end == end;
                if !exact && start < range.end && end > range.start {
                    self.0.xa.erase_kept(start, order);
                    *path = None;
                }
            }
        }
    }
}

impl RangeStore for Writer<'_> {
    type Error = Error;
    // Nobody else modifies the store while the writer holds memattr_store_lock.
    fn entry_at(&self, gfn: u64) -> Option<Entry> {
        self.0.xa.entry_at(gfn, xa::ReadMode::Rcu)
    }
    fn next_entry(&self, from: u64, last: u64) -> Option<Entry> {
        self.0.xa.next_entry(from, last, xa::ReadMode::Rcu)
    }

    fn split(&mut self, e: Entry) -> Result {
        self.0.injected_failure()?;
        self.0.rewriting(|| self.0.xa.split(e, GFP))
    }

    fn reserve(&mut self, start: u64, order: u32) -> Result {
        // The node that will hold the chunk exists: its store cannot need
        // memory (a single page among differing neighbours, the common case
        // of a fragmented map, or the second chunk of a run on one node).
        // Chunks are reserved in increasing order and a reservation never
        // frees a node, so the node of the previous chunk needs no walk.
        if self.1.is_some_and(|n| n.holds(start, order)) {
            return self.0.injected_failure();
        }
        if let Some(node) = self.0.xa.slot_node(start, order) {
            self.1 = Some(node);
            return self.0.injected_failure();
        }
        let store = self.0;
        if self
            .0
            .xa
            .reserve_if_empty(start, order, GFP, || store.injected_failure())?
        {
            self.1 = self.0.xa.slot_node(start, order);
            return Ok(());
        }
        // A chunk with entries has every node its store needs, except when it
        // starts at 0 and the tree is not yet taller than the chunk (or is a
        // lone entry in the head): xas_store() would then grow the tree. A
        // reservation just past the chunk makes it grow now.
        let past = pages(order);
        if start != 0 || order == 0 || self.entry_at(past).is_some() {
            return Ok(());
        }
        self.0.injected_failure()?;
        self.0.xa.reserve_if_empty(past, 0, GFP, || Ok(()))?;
        // SAFETY: writer lock held (type invariant), no other reference to `guard`.
        unsafe { *self.0.guard.get() = Some(past) };
        Ok(())
    }

    /// In the xarray, the slot of a chunk of `[a, b)` lies in the node of
    /// level `s` (its order rounded down to a multiple of 6) that contains
    /// its first page. That node's span S, aligned, holds `a` or `b - 1`:
    /// otherwise S would lie inside the range, and the chunk containing S
    /// (the decomposition's chunks are its maximal aligned blocks) would
    /// overlap this smaller one. If S holds `a`, the first chunk, aligned
    /// and holding `a` too, lies inside S (or is this chunk), so its level
    /// is at most `s` and the path to its slot's node passes through S's
    /// node; likewise for `b - 1` and the last chunk. No chunk needs the
    /// tree to grow past those two: a chunk above the root's level would
    /// start at 0 and so be the first.
    fn reserves_by_ends(&self) -> bool {
        true
    }

    fn unreserve(&mut self, start: u64, order: u32) {
        // Erasing never allocates.
        let _ = self.0.rewriting(|| self.0.xa.store(start, order, 0, GFP));
    }

    #[inline(always)]
    fn release(&mut self) {
        // SAFETY: writer lock held (type invariant), no other reference to `guard`.
        if let Some(past) = unsafe { (*self.0.guard.get()).take() } {
            // The guard may lie inside the planned range, where commit()
            // has stored a value over it since: only a reservation goes.
            self.0.xa.erase_reservation(past);
        }
    }

    #[inline(always)]
    fn page_neighbourhood(&self, gfn: u64) -> Neighbourhood {
        self.0.xa.page_neighbourhood(gfn)
    }

    #[inline(always)]
    fn store_range(&mut self, range: GfnRange, value: u64) {
        // SAFETY: writer lock held (type invariant), no other reference to `kept`.
        let kept = unsafe { &mut *self.0.kept.get() };
        // A store over a kept chunk (of exactly it, see `erase_kept_in`)
        // replaces its zero entry.
        for path in kept.iter_mut() {
            if path.is_some_and(|(start, order)| {
                start < range.end && start + pages(order) > range.start
            }) {
                *path = None;
            }
        }
        // A clear of one chunk, the last entry of its node: keep the node
        // and its parents for the next SET nearby (a page or a 2 MiB range
        // converted back and forth) instead of freeing and allocating them
        // again. `KEPT` paths per store (one for each of a few VMM threads
        // converting in their own places): the oldest is freed.
        let order = (range.end - range.start).trailing_zeros();
        if value == 0 && range.end - range.start == pages(order) && range.start % pages(order) == 0
        {
            if self
                .0
                .rewriting(|| self.0.xa.clear_keeping_node(range.start, order))
            {
                kept.rotate_right(1);
                if let Some((start, order)) = kept[0].replace((range.start, order)) {
                    self.0.xa.erase_kept(start, order);
                }
            }
            return;
        }
        // Every chunk was prepared: store them all under one hold of the
        // lock. Should one still need memory the atomic allocation fails,
        // and the rest go one by one through store()'s fallback.
        let store = self.0;
        store.rewriting(|| {
            let chunks = memattr_core::chunks(range.start, range.end);
            if let Err(at) = store.xa.store_chunks(chunks, value, bindings::GFP_NOWAIT) {
                for (start, order) in memattr_core::chunks(at, range.end) {
                    self.store(start, order, value);
                }
            }
        });
    }

    fn store(&mut self, start: u64, order: u32, value: u64) {
        // prepare() made sure this needs no allocation; if that ever fails,
        // warn and fall back to an atomic allocation rather than half-apply.
        if self
            .0
            .xa
            .store(start, order, value, bindings::GFP_NOWAIT)
            .is_err()
        {
            // SAFETY: plain WARN_ON_ONCE(1).
            unsafe { xa::memattr_warn() };
            if self
                .0
                .xa
                .store(start, order, value, bindings::GFP_ATOMIC)
                .is_err()
            {
                // The update is lost: the VM's attributes are no longer what
                // userspace set. Upstream KVM_BUG_ON()s the VM in this case;
                // a store without a VM (KUnit) only has the warning.
                if !self.0.kvm.is_null() {
                    // SAFETY: `kvm` is the live VM that owns this store.
                    unsafe { bindings::kvm_memattr_bug(self.0.kvm) };
                }
            }
        }
    }
}

/// The per-VM cookie handed to C.
///
/// # Safety
///
/// `p` must be a cookie returned by [`ops_vm_init`] and not yet destroyed.
unsafe fn store<'a>(p: *mut c_void) -> &'a Store {
    // SAFETY: per the function's contract, `p` points at a live, pinned `Store`.
    unsafe { &*(p as *const Store) }
}

fn new_store(kvm: *mut bindings::kvm, has_private_mem: bool) -> Result<*mut c_void> {
    let pinned = KBox::pin_init(
        Store::new(kvm, has_private_mem),
        kernel::alloc::flags::GFP_KERNEL_ACCOUNT,
    )?;
    // SAFETY: the box is turned back into `Pin<KBox<Store>>` by `free_store` and
    // never moved in between.
    Ok(KBox::into_raw(unsafe { Pin::into_inner_unchecked(pinned) }) as *mut c_void)
}

/// # Safety
///
/// `p` was returned by [`new_store`] and no reference to it remains.
unsafe fn free_store(p: *mut c_void) {
    // SAFETY: per the contract, `p` came from `KBox::into_raw` of a pinned box.
    drop(unsafe { Pin::new_unchecked(KBox::from_raw(p as *mut Store)) });
}

// The `ops_*` callbacks below are the table KVM calls (patches/0002). KVM
// calls them only with the cookie `ops_vm_init` returned for a live VM
// (destroyed once, by `ops_vm_destroy`) and a live `kvm`; `prepare`, `commit`
// and `stats` with `kvm->memattr_store_lock` held, `try_set` without it (by a
// SET listed in flight: no other SET on its range). Each one's `# Safety` section
// says which part of that it relies on.

extern "C" fn ops_supported(has_private_mem: bool) -> u64 {
    memattr_core::supported_attrs(has_private_mem, RWX_ENFORCED)
}

/// # Safety
///
/// `kvm` is the VM being created; the store keeps it for lock assertions.
unsafe extern "C" fn ops_vm_init(kvm: *mut bindings::kvm, has_private_mem: bool) -> *mut c_void {
    new_store(kvm, has_private_mem).unwrap_or(core::ptr::null_mut())
}

/// # Safety
///
/// `p` is a cookie from [`ops_vm_init`], not used again after this call.
unsafe extern "C" fn ops_vm_destroy(p: *mut c_void) {
    {
        // SAFETY: KVM calls this once, when the VM is gone; `p` is still live here.
        let s = unsafe { store(p) };
        // Counters only: counting entries and nodes walks the whole tree
        // under the xarray's spinlock, seconds on a large fragmented map.
        let set_calls = s.set_calls.load(Ordering::Relaxed);
        if set_calls > 0 {
            pr_info!(
                "VM released: {} SETs, {} pages changed\n",
                set_calls,
                s.pages_changed.load(Ordering::Relaxed)
            );
        }
    }
    // SAFETY: no reference to the store remains.
    unsafe { free_store(p) }
}

/// # Safety
///
/// `p` is the cookie of a live VM. KVM looks attributes up in the returned
/// xarray with `xa_load()` (the lookup the KUnit suite makes with `XArray::load`) until
/// [`ops_vm_destroy`]: the store is pinned, so the xarray does not move.
unsafe extern "C" fn ops_lookup_array(p: *mut c_void) -> *mut bindings::xarray {
    // SAFETY: KVM passes the cookie of a live VM.
    unsafe { store(p) }.xa.as_ptr()
}

/// # Safety
///
/// `p` is the cookie of a live VM.
unsafe extern "C" fn ops_range_has(
    p: *mut c_void,
    start: u64,
    end: u64,
    mask: u64,
    attrs: u64,
) -> bool {
    // SAFETY: KVM passes the cookie of a live VM.
    let s = unsafe { store(p) };
    // KVM answers one-page queries itself (an xa_load() on this store's
    // xarray). A SET asks before it zaps, and its hugepage recompute asks,
    // while another SET may be committing (patches/0016).
    s.range_has(GfnRange { start, end }, mask, attrs)
}

/// # Safety
///
/// `p` is the cookie of a live VM, whose `memattr_store_lock` the caller holds.
unsafe extern "C" fn ops_prepare(p: *mut c_void, start: u64, end: u64, attrs: u64) -> c_int {
    // SAFETY: KVM passes the cookie of a live VM, with memattr_store_lock held.
    // 0: commit() follows; 1: nothing to do (kvm_memattr_ops.h).
    match unsafe { store(p) }.prepare(GfnRange { start, end }, attrs) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// `p` is the cookie of a live VM, whose `memattr_store_lock` the caller
/// holds since a successful [`ops_prepare`] of the same range and value.
unsafe extern "C" fn ops_commit(p: *mut c_void, start: u64, end: u64, attrs: u64) {
    // SAFETY: KVM passes the cookie of a live VM, with memattr_store_lock held.
    unsafe { store(p) }.commit(GfnRange { start, end }, attrs)
}

/// # Safety
///
/// `p` is the cookie of a live VM; the caller is a SET listed in flight
/// (no other SET on its range), without `memattr_store_lock`.
unsafe extern "C" fn ops_try_set(p: *mut c_void, start: u64, end: u64, attrs: u64) -> c_int {
    // SAFETY: KVM passes the cookie of a live VM; `try_set` takes the
    // xarray's lock itself and keeps out of a writer's way (`writing`).
    // 0: stored; 1: nothing to do; -EAGAIN: prepare() and commit() instead.
    match unsafe { store(p) }.try_set(GfnRange { start, end }, attrs) {
        Some(true) => 0,
        Some(false) => 1,
        None => EAGAIN.to_errno(),
    }
}

/// # Safety
///
/// `p` is the cookie of a live VM, whose `memattr_store_lock` the caller holds; `out`
/// is valid for writes.
unsafe extern "C" fn ops_stats(p: *mut c_void, out: *mut bindings::kvm_memattr_stats) {
    // SAFETY: KVM passes the cookie of a live VM and a valid output struct.
    unsafe { *out = store(p).stats() };
}

#[inline(always)]
fn ioctl_set(kvm: *mut bindings::kvm, s: &Store, arg: usize) -> Result {
    let req: MemoryAttributes = UserSlice::new(arg, size_of::<MemoryAttributes>())
        .reader()
        .read()?;
    let range = memattr_core::validate_set(&req, s.caps).map_err(|_| EINVAL)?;
    // SAFETY: `kvm` is the live VM whose ioctl this is.
    to_result(unsafe {
        bindings::kvm_memattr_set_range(kvm, range.start, range.end, req.attributes)
    })
}

fn ioctl_get(s: &Store, arg: usize) -> Result {
    let (mut reader, mut writer) =
        UserSlice::new(arg, size_of::<MemoryAttributes>()).reader_writer();
    let mut req: MemoryAttributes = reader.read()?;
    let range = memattr_core::validate_get(&req).map_err(|_| EINVAL)?;
    let (attrs, end) = memattr_core::get_run(&s.reader(), range);
    // get_run() never returns an empty run; do not trust that with a panic.
    let pages = end.checked_sub(range.start).filter(|&n| n > 0).ok_or(EIO)?;
    req.attributes = attrs;
    req.size = pages << memattr_core::PAGE_SHIFT;
    writer.write(&req)
}

/// # Safety
///
/// `kvm` is a live VM and `p` its cookie. `unsigned long` and `long` are
/// `usize` and `isize` in the kernel's bindings.
unsafe extern "C" fn ops_ioctl(
    kvm: *mut bindings::kvm,
    p: *mut c_void,
    ioctl: c_uint,
    arg: usize,
) -> isize {
    // SAFETY: KVM passes the cookie of a live VM.
    let s = unsafe { store(p) };
    let r = match ioctl {
        memattr_core::KVM_SET_MEMORY_ATTRIBUTES => ioctl_set(kvm, s, arg),
        memattr_core::KVM_GET_MEMORY_ATTRIBUTES => ioctl_get(s, arg),
        _ => Err(ENOTTY),
    };
    match r {
        Ok(()) => 0,
        Err(e) => e.to_errno() as isize,
    }
}

/// The registered ops table.
struct Ops(bindings::kvm_memattr_ops);

// SAFETY: the table is immutable once registered; its pointers are functions
// and the module, which outlive it.
unsafe impl Sync for Ops {}
// SAFETY: as above.
unsafe impl Send for Ops {}

struct KvmMemattr {
    ops: KBox<Ops>,
}

impl kernel::Module for KvmMemattr {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let ops = KBox::new(
            Ops(bindings::kvm_memattr_ops {
                owner: module.as_ptr(),
                supported: Some(ops_supported),
                vm_init: Some(ops_vm_init),
                vm_destroy: Some(ops_vm_destroy),
                lookup_array: Some(ops_lookup_array),
                range_has: Some(ops_range_has),
                prepare: Some(ops_prepare),
                commit: Some(ops_commit),
                try_set: Some(ops_try_set),
                ioctl: Some(ops_ioctl),
                stats: Some(ops_stats),
            }),
            GFP_KERNEL,
        )?;
        // SAFETY: `ops` lives until `drop`, which unregisters it first.
        to_result(unsafe { bindings::kvm_memattr_register(&ops.0) })?;
        pr_info!("range-native memory-attribute store registered\n");
        Ok(Self { ops })
    }
}

impl Drop for KvmMemattr {
    fn drop(&mut self) {
        // SAFETY: registered in `init`. No VM uses the table: each holds a
        // module reference, so the module cannot be unloading while one lives.
        unsafe { bindings::kvm_memattr_unregister(&self.ops.0) };
        pr_info!("unregistered\n");
    }
}
