// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvm-memattr benchmark driver (make bench).  Runs the same operations on
 * whichever store serves new VMs (upstream's C xarray, or kvm_memattr when
 * the module is loaded) and prints one machine-readable line per result:
 *
 *   BENCH <backend> <case> <value> <unit>
 *
 * scripts/bench.sh runs it once per backend in the same boot and prints the
 * two side by side.  Memory is the growth of the radix_tree_node slab (the
 * xarray's nodes) in /proc/slabinfo, counted the same way for both.  Nothing
 * here asserts a time: under emulation only ratios mean anything.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "memattr_util.h"

#define SZ_4K	4096ULL
#define SZ_1G	(1ULL << 30)
#define PRIV	KVM_MEMORY_ATTRIBUTE_PRIVATE

static char backend[64] = "unknown";

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void report(const char *name, double value, const char *unit)
{
	printf("BENCH %s %s %.6g %s\n", backend, name, value, unit);
	fflush(stdout);
}

/* kvm_memattr's own count of its xarray nodes (nodes * sizeof(xa_node)). */
static void report_counted(struct kvm_vm *vm, const char *name)
{
	if (!strcmp(backend, "kvm_memattr"))
		report(name, memattr_stat(vm, "metadata_bytes") / 1024.0, "KiB");
}

static struct kvm_vm *sw_vm(void)
{
	return vm_create_barebones_type(KVM_X86_SW_PROTECTED_VM);
}

/*
 * The short cases repeat ROUNDS times and report the fastest round: under
 * TCG the same loop varies by tens of percent between runs, and the
 * fastest round is the one least disturbed.
 */
#define ROUNDS	5

static double null_ioctl_ns(void)
{
	struct kvm_vm *vm = sw_vm();
	int i, r, n = 20000;
	double best = 0;

	for (r = 0; r < ROUNDS; r++) {
		double t0 = now_ns(), t;

		for (i = 0; i < n; i++)
			vm_check_cap(vm, KVM_CAP_MEMORY_ATTRIBUTES);
		t = (now_ns() - t0) / n;
		if (!r || t < best)
			best = t;
	}
	kvm_vm_free(vm);
	return best;
}

static void bench_set_clear(uint64_t gib)
{
	struct kvm_vm *vm = sw_vm();
	char name[64];
	long long mem0;
	double t0, t1;

	/*
	 * Warm up: the first SET of a run otherwise also pays for translating
	 * the SET path under TCG (milliseconds, against tens of us after it).
	 */
	memattr_set(vm, 512 * SZ_4K, 512 * SZ_4K, PRIV);
	memattr_set(vm, 512 * SZ_4K, 512 * SZ_4K, 0);
	mem0 = memattr_xa_node_bytes();
	t0 = now_ns();

	memattr_set(vm, 0, gib * SZ_1G, PRIV);
	t1 = now_ns();
	snprintf(name, sizeof(name), "set_private_%lluG", (unsigned long long)gib);
	report(name, (t1 - t0) / 1e6, "ms");
	snprintf(name, sizeof(name), "metadata_%lluG", (unsigned long long)gib);
	report(name, (memattr_xa_node_bytes() - mem0) / 1024.0, "KiB");
	snprintf(name, sizeof(name), "metadata_counted_%lluG", (unsigned long long)gib);
	report_counted(vm, name);
	t0 = now_ns();
	memattr_set(vm, 0, gib * SZ_1G, 0);
	snprintf(name, sizeof(name), "clear_%lluG", (unsigned long long)gib);
	report(name, (now_ns() - t0) / 1e6, "ms");
	kvm_vm_free(vm);
}

/*
 * A page with no attributes anywhere near it converted private and back, as
 * a guest's KVM_HC_MAP_GPA_RANGE of one page asks for it: on upstream's
 * store each SET creates the page's leaf node and each clear frees it
 * again; kvm_memattr keeps them (a kept path, memory-attributes.rst 2.2).
 * Per SET or clear, fastest round; then, timed one by one (a clock read
 * around each), the SETs and the clears apart. Last, ISO_TURN such pages
 * 4 GiB apart in turn, one more than kvm_memattr keeps paths for, where
 * the kept paths cannot help: each clear keeps its page's nodes and frees
 * the oldest page's, each SET allocates them.
 */
#define ISO_GPA		0x300000000ULL	/* no memslot, nothing near it */
#define ISO_TURN	5

static void bench_isolated_page(void)
{
	struct kvm_vm *vm = sw_vm();
	double best = 0, best_set = 0, best_clear = 0;
	int r, i, n = 10000;

	for (r = 0; r < ROUNDS; r++) {
		double t0 = now_ns(), t, set = 0, clear = 0;

		for (i = 0; i < n; i++) {
			memattr_set(vm, ISO_GPA, SZ_4K, PRIV);
			memattr_set(vm, ISO_GPA, SZ_4K, 0);
		}
		t = (now_ns() - t0) / (2 * n);
		if (!r || t < best)
			best = t;
		for (i = 0; i < n; i++) {
			double a = now_ns(), b;

			memattr_set(vm, ISO_GPA, SZ_4K, PRIV);
			b = now_ns();
			memattr_set(vm, ISO_GPA, SZ_4K, 0);
			set += b - a;
			clear += now_ns() - b;
		}
		if (!r || set / n < best_set)
			best_set = set / n;
		if (!r || clear / n < best_clear)
			best_clear = clear / n;
	}
	report("isolated_page_set_or_clear", best / 1e3, "us");
	report("isolated_page_set", best_set / 1e3, "us");
	report("isolated_page_clear", best_clear / 1e3, "us");
	for (r = 0; r < ROUNDS; r++) {
		double t0 = now_ns(), t;

		for (i = 0; i < n; i++) {
			uint64_t gpa = ISO_GPA + i % ISO_TURN * 4 * SZ_1G;

			memattr_set(vm, gpa, SZ_4K, PRIV);
			memattr_set(vm, gpa, SZ_4K, 0);
		}
		t = (now_ns() - t0) / (2 * n);
		if (!r || t < best)
			best = t;
	}
	report("isolated_pages_in_turn", best / 1e3, "us");
	kvm_vm_free(vm);
}

/* Every other 4 KiB page private over 1 GiB: the worst case for runs. */
static void bench_fragmented(void)
{
	double best = 0, best_noop = 0;
	int r;

	for (r = 0; r < ROUNDS; r++) {
		struct kvm_vm *vm = sw_vm();
		uint64_t gpa, n = 0;
		long long mem0 = memattr_xa_node_bytes();
		double t0 = now_ns(), t;

		for (gpa = 0; gpa < SZ_1G; gpa += 2 * SZ_4K, n++)
			memattr_set(vm, gpa, SZ_4K, PRIV);
		t = (now_ns() - t0) / n;
		if (!r || t < best)
			best = t;
		/* The same SETs again: each finds its page done, the ioctl's floor. */
		t0 = now_ns();
		for (gpa = 0; gpa < SZ_1G; gpa += 2 * SZ_4K)
			memattr_set(vm, gpa, SZ_4K, PRIV);
		t = (now_ns() - t0) / n;
		if (!r || t < best_noop)
			best_noop = t;
		/* The first round: later ones reuse the nodes the slab kept. */
		if (!r) {
			report("fragmented_1G_metadata",
			       (memattr_xa_node_bytes() - mem0) / 1024.0, "KiB");
			report_counted(vm, "fragmented_1G_metadata_counted");
		}
		kvm_vm_free(vm);
	}
	report("fragmented_1G_set_per_page", best / 1e3, "us");
	report("fragmented_1G_noop_set_per_page", best_noop / 1e3, "us");
}

/*
 * SET + clear of an unmapped 1 TiB range, relative to a null ioctl: aligned,
 * and starting one page in, which decomposes into one chunk per order.
 */
static void bench_unmapped(const char *name, uint64_t gpa, double null_ns)
{
	struct kvm_vm *vm = sw_vm();
	int i, r, n = 200;
	double per = 0;
	char buf[80];

	for (r = 0; r < ROUNDS; r++) {
		double t0 = now_ns(), t;

		for (i = 0; i < n; i++) {
			memattr_set(vm, gpa, 1ULL << 40, PRIV);
			memattr_set(vm, gpa, 1ULL << 40, 0);
		}
		t = (now_ns() - t0) / (2 * n);
		if (!r || t < per)
			per = t;
	}
	snprintf(buf, sizeof(buf), "set_unmapped_%s", name);
	report(buf, per / 1e3, "us");
	snprintf(buf, sizeof(buf), "set_unmapped_%s_over_null_ioctl", name);
	report(buf, per / null_ns, "x");
	kvm_vm_free(vm);
}

/* Single-page conversion round trips while a vCPU runs. */
#define RT_GPA		0xc0000000ULL
#define RT_PAGES	2048
#define RT_SLOT		10

static volatile uint64_t *stop_flag;

static void guest_touch(void)
{
	volatile uint64_t *mem = (volatile uint64_t *)RT_GPA;
	uint64_t i;

	for (i = 0; i < RT_PAGES; i++)
		mem[i * 512] = i;
	GUEST_SYNC(0);
	/* Keep touching the first half; the host converts the second half. */
	while (!*(volatile uint64_t *)(RT_GPA + (RT_PAGES - 1) * SZ_4K + 8))
		for (i = 0; i < RT_PAGES / 2; i++)
			mem[i * 512]++;
	GUEST_DONE();
}

static void *vcpu_thread(void *arg)
{
	struct kvm_vcpu *vcpu = arg;
	struct ucall uc;

	vcpu_run(vcpu);
	memattr_expect_ucall(vcpu, UCALL_DONE, &uc);
	return NULL;
}

/* @n pages of the second half converted private and back, per second. */
static double rt_convert(struct kvm_vm *vm, int n)
{
	double t0 = now_ns();
	int i;

	for (i = 0; i < n; i++) {
		/* The last page holds the stop flag: never convert it. */
		uint64_t gpa = RT_GPA + (RT_PAGES / 2 + i % (RT_PAGES / 2 - 1)) * SZ_4K;

		memattr_set(vm, gpa, SZ_4K, PRIV);
		memattr_set(vm, gpa, SZ_4K, 0);
	}
	return n / ((now_ns() - t0) / 1e9);
}

static void bench_round_trips(void)
{
	const struct vm_shape shape = { .mode = VM_MODE_DEFAULT, .type = KVM_X86_SW_PROTECTED_VM };
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	pthread_t thread;
	double best = 0;
	int n = 4096, r;

	vm = vm_create_shape_with_one_vcpu(shape, &vcpu, guest_touch);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, RT_GPA, RT_SLOT, RT_PAGES, 0);
	virt_map(vm, RT_GPA, RT_GPA, RT_PAGES);
	vcpu_run(vcpu);
	memattr_expect_ucall(vcpu, UCALL_SYNC, &uc);
	/*
	 * The same SETs with the vCPU idle first: the SETs' own cost, fastest
	 * of ROUNDS (a single run varies by a third either way). With
	 * the vCPU running, single-threaded TCG shares one host thread
	 * between it and the SETs, and how it does varies twofold.
	 */
	for (r = 0; r < ROUNDS; r++)
		best = max(best, rt_convert(vm, n));
	report("round_trips_vcpu_idle", best, "per_s");
	pthread_create(&thread, NULL, vcpu_thread, vcpu);
	report("round_trips_vcpu_running", rt_convert(vm, n), "per_s");

	stop_flag = addr_gpa2hva(vm, RT_GPA + (RT_PAGES - 1) * SZ_4K + 8);
	*stop_flag = 1;
	pthread_join(thread, NULL);
	kvm_vm_free(vm);
}

/*
 * Conversions in parallel: 1, 2 and 4 threads SET disjoint 2 MiB ranges of
 * a 4 GiB memslot private and back, while a vCPU keeps touching its own
 * memory (faults and MMU invalidations contend for mmu_lock). SETs per
 * second, all threads together. The control: 1 and 2 threads doing null
 * ioctls, which share nothing, show how far the machine runs two threads
 * in parallel at all.
 */
#define PAR_GPA		0x100000000ULL
#define PAR_SLOT	12	/* and 13: two 2 GiB slots, each within overcommit */
#define PAR_SZ		(2ULL << 20)
#define PAR_RANGES	2048	/* 4 GiB */
#define PAR_TRIPS	1024	/* round trips per run, shared by the threads */
/* Under multi-threaded TCG a run is that much shorter: repeat it more. */
#define PAR_MTTCG_SCALE	16

#define PAR_NULLS	20000	/* null ioctls per run, shared by the threads */

struct par_arg {
	struct kvm_vm *vm;
	pthread_barrier_t *start;
	int id, n, scale;
	bool null;
};

static void *par_thread(void *p)
{
	struct par_arg *a = p;
	cpu_set_t cpus;
	int i;

	/*
	 * One thread per CPU while there are enough: what is measured is
	 * whether the kernel lets two SETs run at once, not where the guest's
	 * scheduler happens to put two threads that sleep on each other.
	 */
	if (a->n <= sysconf(_SC_NPROCESSORS_ONLN)) {
		CPU_ZERO(&cpus);
		CPU_SET(a->id, &cpus);
		TEST_ASSERT(!pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus),
			    "pinning thread %d", a->id);
	}
	pthread_barrier_wait(a->start);
	/* The control: how far the machine runs two threads in parallel at all. */
	for (i = a->id; a->null && i < PAR_NULLS * a->scale; i += a->n)
		vm_check_cap(a->vm, KVM_CAP_MEMORY_ATTRIBUTES);
	for (i = a->id; !a->null && i < PAR_TRIPS * a->scale; i += a->n) {
		uint64_t gpa = PAR_GPA + (i % PAR_RANGES) * PAR_SZ;

		memattr_set(a->vm, gpa, PAR_SZ, PRIV);
		memattr_set(a->vm, gpa, PAR_SZ, 0);
	}
	return NULL;
}

/* @n threads doing their share of the work; seconds until the last is done. */
static double par_run(struct kvm_vm *vm, int n, int scale, bool null)
{
	struct par_arg args[4];
	pthread_barrier_t start;
	pthread_t tids[4];
	double t0;
	int i;

	pthread_barrier_init(&start, NULL, n + 1);
	for (i = 0; i < n; i++) {
		args[i] = (struct par_arg){
			.vm = vm, .start = &start, .id = i, .n = n, .scale = scale, .null = null,
		};
		pthread_create(&tids[i], NULL, par_thread, &args[i]);
	}
	pthread_barrier_wait(&start);
	t0 = now_ns();
	for (i = 0; i < n; i++)
		pthread_join(tids[i], NULL);
	pthread_barrier_destroy(&start);
	return (now_ns() - t0) / 1e9;
}

/*
 * @vcpu_running: as described above, with the case names "parallel_*"; or
 * with no vCPU ever run ("mttcg_*", 1 and 2 threads), for a boot under
 * multi-threaded TCG, where the guest's two CPUs are two host threads but
 * nested SVM is not reliable (see scripts/guest.sh): there the SETs have
 * the guest's CPUs to themselves.
 */
static void bench_parallel(bool vcpu_running)
{
	const char *prefix = vcpu_running ? "parallel" : "mttcg";
	int max_threads = vcpu_running ? 4 : 2;
	int scale = vcpu_running ? 1 : PAR_MTTCG_SCALE;
	const struct vm_shape shape = { .mode = VM_MODE_DEFAULT, .type = KVM_X86_SW_PROTECTED_VM };
	struct kvm_vcpu *vcpu;
	pthread_t vcpu_tid;
	struct kvm_vm *vm;
	struct ucall uc;
	char name[48];
	int n, i, r;

	vm = vm_create_shape_with_one_vcpu(shape, &vcpu, guest_touch);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, RT_GPA, RT_SLOT, RT_PAGES, 0);
	virt_map(vm, RT_GPA, RT_GPA, RT_PAGES);
	/* Never touched: the host's memory is only reserved, not used. */
	for (i = 0; i < 2; i++)
		vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS,
					    PAR_GPA + i * (PAR_RANGES / 2) * PAR_SZ, PAR_SLOT + i,
					    PAR_RANGES / 2 * (PAR_SZ / SZ_4K), 0);
	if (vcpu_running) {
		vcpu_run(vcpu);
		memattr_expect_ucall(vcpu, UCALL_SYNC, &uc);
		pthread_create(&vcpu_tid, NULL, vcpu_thread, vcpu);
	}

	/*
	 * Under multi-threaded TCG one run of two threads goes either near
	 * twice one thread's rate or near 1.3 times it, differing from run
	 * to run and boot to boot, on both stores' SETs and on the control:
	 * ROUNDS runs each, interleaved, and the table shows the best and
	 * the range.
	 */
	for (r = 0; r < (vcpu_running ? 1 : ROUNDS); r++) {
		for (n = 1; n <= max_threads; n *= 2) {
			snprintf(name, sizeof(name), "%s_2M_sets_%d_threads", prefix, n);
			report(name, 2 * PAR_TRIPS * scale / par_run(vm, n, scale, false),
			       "per_s");
		}
		for (n = 1; n <= 2; n++) {
			snprintf(name, sizeof(name), "%s_null_ioctls_%d_threads", prefix, n);
			report(name, PAR_NULLS * scale / par_run(vm, n, scale, true), "per_s");
		}
	}

	if (vcpu_running) {
		stop_flag = addr_gpa2hva(vm, RT_GPA + (RT_PAGES - 1) * SZ_4K + 8);
		*stop_flag = 1;
		pthread_join(vcpu_tid, NULL);
	}
	kvm_vm_free(vm);
}

/*
 * Guest-visible conversion cost: the guest converts a range private and back
 * with KVM_HC_MAP_GPA_RANGE, which exits to the VMM (KVM_CAP_EXIT_HYPERCALL);
 * the VMM SETs the attributes and re-enters, as a confidential VMM does.
 */
#define MG_GPA		0x200000000ULL	/* 2 MiB aligned, no memslot */
#define MG_ROUNDS	2048

static uint64_t mg_size;

static void guest_map_gpa(void)
{
	uint64_t sz = READ_ONCE(mg_size);
	uint64_t pg = sz == SZ_4K ? KVM_MAP_GPA_RANGE_PAGE_SZ_4K : KVM_MAP_GPA_RANGE_PAGE_SZ_2M;

	for (int i = 0; i < MG_ROUNDS; i++) {
		kvm_hypercall_map_gpa_range(MG_GPA, sz, KVM_MAP_GPA_RANGE_ENCRYPTED | pg);
		kvm_hypercall_map_gpa_range(MG_GPA, sz, KVM_MAP_GPA_RANGE_DECRYPTED | pg);
	}
	GUEST_DONE();
}

static void bench_map_gpa_range(uint64_t size, const char *name)
{
	const struct vm_shape shape = { .mode = VM_MODE_DEFAULT, .type = KVM_X86_SW_PROTECTED_VM };
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct kvm_run *run;
	struct ucall uc;
	int exits = 0;
	double t0;

	vm = vm_create_shape_with_one_vcpu(shape, &vcpu, guest_map_gpa);
	vm_enable_cap(vm, KVM_CAP_EXIT_HYPERCALL, BIT_ULL(KVM_HC_MAP_GPA_RANGE));
	mg_size = size;
	sync_global_to_guest(vm, mg_size);
	run = vcpu->run;
	t0 = now_ns();
	for (;;) {
		vcpu_run(vcpu);
		if (run->exit_reason != KVM_EXIT_HYPERCALL)
			break;
		TEST_ASSERT(run->hypercall.nr == KVM_HC_MAP_GPA_RANGE &&
			    run->hypercall.args[0] == MG_GPA &&
			    run->hypercall.args[1] * SZ_4K == size,
			    "unexpected hypercall %llu (%#llx, %llu pages)", run->hypercall.nr,
			    run->hypercall.args[0], run->hypercall.args[1]);
		memattr_set(vm, MG_GPA, size,
			    run->hypercall.args[2] & KVM_MAP_GPA_RANGE_ENCRYPTED ? PRIV : 0);
		run->hypercall.ret = 0;
		exits++;
	}
	memattr_expect_ucall(vcpu, UCALL_DONE, &uc);
	TEST_ASSERT_EQ(exits, 2 * MG_ROUNDS);
	report(name, MG_ROUNDS / ((now_ns() - t0) / 1e9), "per_s");
	kvm_vm_free(vm);
}

/* A guest that touches [MAP_GPA, +map_pages) once per run, reading or writing. */
#define MAP_GPA		0x100000000ULL
#define MAP_SLOT	11

static uint64_t map_pages, map_write;

static void guest_map_touch(void)
{
	volatile uint64_t *mem = (volatile uint64_t *)MAP_GPA;
	uint64_t i;

	for (;;) {
		for (i = 0; i < READ_ONCE(map_pages); i++) {
			if (READ_ONCE(map_write))
				mem[i * 512] = i;
			else
				(void)mem[i * 512];
		}
		GUEST_SYNC(0);
	}
}

static struct kvm_vm *map_vm(unsigned long type, uint64_t pages, struct kvm_vcpu **vcpu)
{
	const struct vm_shape shape = { .mode = VM_MODE_DEFAULT, .type = type };
	/* Slot 0 gets room for the guest page tables that will map the region. */
	struct kvm_vm *vm = __vm_create_shape_with_one_vcpu(shape, vcpu, pages,
							    guest_map_touch);

	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, MAP_GPA, MAP_SLOT, pages, 0);
	virt_map(vm, MAP_GPA, MAP_GPA, pages);
	map_pages = pages;
	sync_global_to_guest(vm, map_pages);
	return vm;
}

/* One pass of the guest over its pages, in ns. */
static double touch(struct kvm_vm *vm, struct kvm_vcpu *vcpu, bool write)
{
	struct ucall uc;
	double t0;

	map_write = write;
	sync_global_to_guest(vm, map_write);
	t0 = now_ns();
	vcpu_run(vcpu);
	memattr_expect_ucall(vcpu, UCALL_SYNC, &uc);
	return now_ns() - t0;
}

/*
 * Fault-path cost: the first read of 64 MiB of fresh mappings, with no
 * attributes (both stores), and under NX (kvm_memattr only: reads allowed,
 * every fault consults the attributes and strips exec).
 */
static void bench_fault_path(bool rust)
{
	uint64_t pages = 16384;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	vm = map_vm(KVM_X86_DEFAULT_VM, pages, &vcpu);
	report("fault_first_read_64M", touch(vm, vcpu, false) / pages, "ns_per_page");
	kvm_vm_free(vm);
	if (!rust)
		return;
	vm = map_vm(KVM_X86_DEFAULT_VM, pages, &vcpu);
	memattr_set(vm, MAP_GPA, pages * SZ_4K, KVM_MEMORY_ATTRIBUTE_NX);
	report("fault_first_read_64M_NX", touch(vm, vcpu, false) / pages, "ns_per_page");
	kvm_vm_free(vm);
	vm = map_vm(KVM_X86_DEFAULT_VM, pages, &vcpu);
	memattr_set(vm, MAP_GPA, pages * SZ_4K, KVM_MEMORY_ATTRIBUTE_NW | KVM_MEMORY_ATTRIBUTE_NX);
	report("fault_first_read_64M_NW_NX", touch(vm, vcpu, false) / pages, "ns_per_page");
	kvm_vm_free(vm);
}

/*
 * 1 GiB of mapped, touched memory: converting it (PRIVATE, both stores,
 * zaps every mapping) and, on kvm_memattr, protecting it NW and back.
 */
static void bench_mapped(bool rust)
{
	uint64_t pages = 262144;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	double t0;

	vm = map_vm(KVM_X86_SW_PROTECTED_VM, pages, &vcpu);
	touch(vm, vcpu, true);
	t0 = now_ns();
	memattr_set(vm, MAP_GPA, pages * SZ_4K, KVM_MEMORY_ATTRIBUTE_PRIVATE);
	report("convert_mapped_1G_private", (now_ns() - t0) / 1e6, "ms");
	t0 = now_ns();
	memattr_set(vm, MAP_GPA, pages * SZ_4K, 0);
	report("convert_mapped_1G_shared", (now_ns() - t0) / 1e6, "ms");
	kvm_vm_free(vm);
	if (!rust)
		return;
	vm = map_vm(KVM_X86_DEFAULT_VM, pages, &vcpu);
	touch(vm, vcpu, true);
	t0 = now_ns();
	memattr_set(vm, MAP_GPA, pages * SZ_4K, KVM_MEMORY_ATTRIBUTE_NW);
	report("protect_mapped_1G_NW", (now_ns() - t0) / 1e6, "ms");
	report("touch_1G_read_after_NW", touch(vm, vcpu, false) / 1e6, "ms");
	t0 = now_ns();
	memattr_set(vm, MAP_GPA, pages * SZ_4K, 0);
	report("unprotect_mapped_1G", (now_ns() - t0) / 1e6, "ms");
	report("touch_1G_write_after_unprotect", touch(vm, vcpu, true) / 1e6, "ms");
	kvm_vm_free(vm);
}

/*
 * memattr_bench [MAX_GIB]: every case on the store that serves new VMs.
 * memattr_bench short: only the single-page cases whose ratio sits near 1
 * (fragmented SETs, round trips with a vCPU running, guest 4 KiB
 * conversions), for runs that alternate the two stores in one boot
 * (guest/bench.sh).
 * memattr_bench mttcg: the parallel conversions with no vCPU running, for a
 * boot under multi-threaded TCG (guest/bench-mttcg.sh).
 */
int main(int argc, char *argv[])
{
	int max_gib = argc > 1 ? atoi(argv[1]) : 64;
	struct kvm_vm *vm;
	double null_ns;
	int gib;

	TEST_REQUIRE(kvm_check_cap(KVM_CAP_VM_TYPES) & BIT(KVM_X86_SW_PROTECTED_VM));
	vm = sw_vm();
	TEST_ASSERT(memattr_backend(vm, backend, sizeof(backend)), "no debugfs");
	kvm_vm_free(vm);
	if (argc > 1 && !strcmp(argv[1], "mttcg")) {
		bench_parallel(false);
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "short")) {
		bench_fragmented();
		bench_isolated_page();
		bench_round_trips();
		bench_map_gpa_range(SZ_4K, "guest_map_gpa_round_trips_4K");
		return 0;
	}

	null_ns = null_ioctl_ns();
	report("null_ioctl", null_ns / 1e3, "us");
	for (gib = 1; gib <= max_gib; gib *= 4)
		bench_set_clear(gib);
	bench_fragmented();
	bench_isolated_page();
	/* 268 million per-page entries: out of reach for the C store under TCG. */
	if (!strcmp(backend, "kvm_memattr")) {
		bench_unmapped("1T", 0, null_ns);
		bench_unmapped("1T_unaligned", SZ_4K, null_ns);
	}
	bench_round_trips();
	bench_parallel(true);
	bench_map_gpa_range(SZ_4K, "guest_map_gpa_round_trips_4K");
	bench_map_gpa_range(512 * SZ_4K, "guest_map_gpa_round_trips_2M");
	bench_fault_path(!strcmp(backend, "kvm_memattr"));
	bench_mapped(!strcmp(backend, "kvm_memattr"));
	return 0;
}
