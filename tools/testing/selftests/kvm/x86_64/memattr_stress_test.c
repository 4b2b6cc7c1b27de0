// SPDX-License-Identifier: GPL-2.0-only
/*
 * Stress: vCPUs write and read memory while host threads protect, convert
 * and relax random overlapping ranges and another thread deletes and
 * re-creates a memslot the guest also reads.  Checked throughout:
 *
 * - while a page's attributes deny writes (NW, NR, or PRIVATE), its shared
 *   contents do not change;
 * - while a page is NR, the guest never reads it: the host plants a poison
 *   value in the page after the SET that made it NR returns and removes it
 *   before the SET that relaxes it, and the guest asserts it never sees it;
 * - every vCPU exit is one the test expects (a denied access inside the
 *   protected range, an MMIO read of the missing slot, the final ucall);
 *   anything else is printed with the registers and fails;
 * - at the end the GET walk equals the model of every accepted SET.
 *
 * Variants: -t backs the protected slot with 2 MiB-aligned transparent huge
 * pages and also protects and relaxes whole 2 MiB ranges (splits and
 * re-merges); -g backs it with guest_memfd, so PRIVATE really converts;
 * -D uses a default VM (no PRIVATE; what shadow paging can run); -c runs four
 * protectors, each on pages of its own (16-page stripes, interleaved, so
 * their ranges share hugepages and touch each other) with no lock between
 * them, so their SETs run concurrently in the kernel; -u (with -c -t) has
 * two protectors share each huge page and, after each relax (always to no
 * attributes), pause too: the huge pages go uniform between their SETs and
 * map huge again while the other protector's SETs are in flight, and the
 * run fails if no 2 MiB mapping was ever seen (on TDP only: the guest maps
 * its memory with 4 KiB pages, so shadow paging never maps it huge).  The seed
 * (-s) is printed and replays the same sequence of SETs per thread.  A
 * watchdog prints what every thread was doing if the run overstays.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
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

#define NR	KVM_MEMORY_ATTRIBUTE_NR
#define NW	KVM_MEMORY_ATTRIBUTE_NW
#define NX	KVM_MEMORY_ATTRIBUTE_NX
#define PRIV	KVM_MEMORY_ATTRIBUTE_PRIVATE
#define SZ_4K	4096ULL
#define HPAGE_PAGES 512

#define A_GPA		0xc0000000ULL	/* 2 MiB aligned */
#define A_SLOT		10
#define A_MAX_PAGES	1024
#define B_GPA		0xd0000000ULL
#define B_SLOT		11
#define B_PAGES		16
#define MAX_VCPUS	4
#define POISON_WORD	256		/* guest reads it; vCPU ids write words 0..3 */
#define POISON		0xdeadbeefbadc0ffeULL
#define NR_PROTECTORS	4	/* at most: 2, or 4 with -c */
#define STRIPE		16	/* -c: pages a protector owns in a row */

/* Shared with the guest. */
static uint64_t stop, guest_pages, guest_read_b;

static void guest_code(uint64_t id)
{
	volatile uint64_t *a = (volatile uint64_t *)A_GPA;
	volatile uint64_t *b = (volatile uint64_t *)B_GPA;
	uint64_t n = 0, i, v;

	while (!READ_ONCE(stop)) {
		for (i = 0; i < guest_pages; i++) {
			a[i * 512 + id] = ++n;
			v = a[i * 512 + POISON_WORD];
			__GUEST_ASSERT(v != POISON, "vCPU %lu read page %lu while it was NR", id, i);
		}
		for (i = 0; guest_read_b && i < B_PAGES; i++)
			(void)b[i * 512];
	}
	GUEST_DONE();
}

static struct {
	unsigned int seed;
	int duration;
	int nvcpus;
	bool thp, gmem, default_vm, no_slot_thread, private_only, concurrent, uniform;
	uint64_t deny[8];
	unsigned int ndeny;
} opt = { .duration = 15, .nvcpus = 2 };

static struct kvm_vm *vm;
static uint64_t a_pages;
/* One for all protectors; with -c, one each (their pages are disjoint). */
static pthread_mutex_t model_lock[NR_PROTECTORS] = {
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
};
static int nprot = 2;
static uint64_t model[A_MAX_PAGES], gen[A_MAX_PAGES];
static volatile bool done, finished;
static unsigned long sets, checks, slot_cycles, protector_rounds[NR_PROTECTORS];
static unsigned long in_set, overlapped;
/* -u: the protectors' samples of KVM's pages_2m, and those above 0. */
static unsigned long huge_samples, huge_seen;

/* What each vCPU thread did last, for the watchdog. */
static pthread_t vcpu_threads[MAX_VCPUS];

static struct vcpu_stat {
	volatile unsigned long runs, denied, mmio;
	volatile unsigned int last_exit;
	volatile int in_run;
	volatile uint64_t last_gpa, last_flags;
} vstat[MAX_VCPUS];

static bool write_denied(uint64_t attrs)
{
	return attrs & (NW | NR | PRIV);
}

/* Pages the guest cannot read: NR, and PRIVATE without guest_memfd. */
static bool read_denied(uint64_t attrs)
{
	return (attrs & NR) || ((attrs & PRIV) && !opt.gmem);
}

static uint64_t *page_hva(uint64_t p)
{
	return addr_gpa2hva(vm, A_GPA + p * SZ_4K);
}

/*
 * The SET, with the model and the NR poison kept in step: the poison leaves
 * a page before the SET that makes it readable, and enters it only after
 * the SET that makes it NR has returned.
 */
static void set_locked(uint64_t first, uint64_t n, uint64_t attrs)
{
	uint64_t p;

	for (p = first; p < first + n; p++)
		if (read_denied(model[p]) && !read_denied(attrs))
			WRITE_ONCE(page_hva(p)[POISON_WORD], 0);
	/* How often another SET was in the kernel when this one entered it. */
	if (__atomic_fetch_add(&in_set, 1, __ATOMIC_RELAXED))
		__atomic_fetch_add(&overlapped, 1, __ATOMIC_RELAXED);
	memattr_set(vm, A_GPA + first * SZ_4K, n * SZ_4K, attrs);
	__atomic_fetch_sub(&in_set, 1, __ATOMIC_RELAXED);
	for (p = first; p < first + n; p++) {
		if (read_denied(attrs))
			WRITE_ONCE(page_hva(p)[POISON_WORD], POISON);
		model[p] = attrs;
		gen[p]++;
	}
	__atomic_fetch_add(&sets, 1, __ATOMIC_RELAXED);
}


static bool expected_fault(struct kvm_run *run)
{
	uint64_t gpa = run->memory_fault.gpa, flags = run->memory_fault.flags;

	if (gpa < A_GPA || gpa >= A_GPA + a_pages * SZ_4K || run->memory_fault.size != SZ_4K)
		return false;
	if (flags == KVM_MEMORY_EXIT_FLAG_READ || flags == KVM_MEMORY_EXIT_FLAG_WRITE)
		return true;
	/*
	 * PRIVATE on a slot without guest_memfd cannot be accessed: that exit
	 * carries the PRIVATE flag.  With guest_memfd the access just goes to
	 * private memory, and a default VM has no PRIVATE: no such exit.
	 */
	return flags == KVM_MEMORY_EXIT_FLAG_PRIVATE && !opt.gmem && !opt.default_vm;
}

static void *vcpu_thread(void *arg)
{
	struct kvm_vcpu *vcpu = arg;
	struct vcpu_stat *st = &vstat[vcpu->id];
	struct kvm_run *run = vcpu->run;
	struct ucall uc;

	for (;;) {
		int r, err;

		st->in_run = 1;
		r = _vcpu_run(vcpu);
		err = errno;
		st->in_run = 0;
		st->runs++;
		st->last_exit = run->exit_reason;
		if (r) {
			if (err == EINTR && finished) {
				/* The watchdog kicked a vCPU that would not come back. */
				memattr_report_exit(vcpu, r, err, "kicked out of KVM_RUN by the watchdog");
				TEST_FAIL("vCPU %u: stuck in KVM_RUN", vcpu->id);
			}
			if (err != EFAULT || run->exit_reason != KVM_EXIT_MEMORY_FAULT ||
			    !expected_fault(run)) {
				memattr_report_exit(vcpu, r, err, "unexpected KVM_RUN failure");
				TEST_FAIL("vCPU %u: unexpected KVM_RUN failure", vcpu->id);
			}
			st->last_gpa = run->memory_fault.gpa;
			st->last_flags = run->memory_fault.flags;
			st->denied++;
			usleep(50);	/* let the attributes be relaxed */
			continue;
		}
		if (run->exit_reason == KVM_EXIT_MMIO && !opt.no_slot_thread &&
		    run->mmio.phys_addr >= B_GPA &&
		    run->mmio.phys_addr < B_GPA + B_PAGES * SZ_4K && !run->mmio.is_write) {
			/* Slot B is gone for a moment: reads return zeros. */
			memset(run->mmio.data, 0, sizeof(run->mmio.data));
			st->mmio++;
			continue;
		}
		if (run->exit_reason == KVM_EXIT_IO) {
			switch (get_ucall(vcpu, &uc)) {
			case UCALL_DONE:
				return NULL;
			case UCALL_ABORT:
				memattr_report_exit(vcpu, r, 0, "guest assertion");
				REPORT_GUEST_ASSERT(uc);
				break;
			default:
				break;
			}
		}
		memattr_report_exit(vcpu, r, 0, "unexpected exit");
		TEST_FAIL("vCPU %u: unexpected exit %u (%s)", vcpu->id, run->exit_reason,
			  exit_reason_str(run->exit_reason));
	}
}

/*
 * A random range: mostly small, sometimes a whole aligned huge page; with -c
 * inside one of protector @id's stripes, sometimes all of it.
 */
static void pick_range(unsigned int *seed, uintptr_t id, uint64_t *first, uint64_t *n)
{
	if (opt.concurrent) {
		uint64_t stripe = (rand_r(seed) % (a_pages / STRIPE / nprot)) * nprot + id;

		*first = stripe * STRIPE;
		*n = STRIPE;
		if (rand_r(seed) % 4) {
			*first += rand_r(seed) % STRIPE;
			*n = 1 + rand_r(seed) % (stripe * STRIPE + STRIPE - *first);
		}
		return;
	}
	if (opt.thp && rand_r(seed) % 4 == 0) {
		*first = (rand_r(seed) % (a_pages / HPAGE_PAGES)) * HPAGE_PAGES;
		*n = HPAGE_PAGES;
		return;
	}
	*first = rand_r(seed) % a_pages;
	*n = 1 + rand_r(seed) % 64;
	if (*first + *n > a_pages)
		*n = a_pages - *first;
}

static long vm_pages_2m(void);
static long max_pages_2m = -1;

/* -u: what a protector sees of KVM's 2 MiB mappings before its next SET. */
static void note_pages_2m(void)
{
	long p2m = vm_pages_2m();

	__atomic_fetch_add(&huge_samples, 1, __ATOMIC_RELAXED);
	if (p2m > 0)
		__atomic_fetch_add(&huge_seen, 1, __ATOMIC_RELAXED);
	if (p2m > __atomic_load_n(&max_pages_2m, __ATOMIC_RELAXED))
		__atomic_store_n(&max_pages_2m, p2m, __ATOMIC_RELAXED);
}

static void *protector(void *arg)
{
	uintptr_t id = (uintptr_t)arg;
	unsigned int seed = opt.seed * NR_PROTECTORS + id;
	pthread_mutex_t *lock = &model_lock[opt.concurrent ? id : 0];
	static const uint64_t deny_priv[] = { NW, NW | NX, NR | NW | NX, PRIV };
	static const uint64_t deny_default[] = { NW, NW | NX, NR | NW | NX };
	static const uint64_t deny_private_only[] = { PRIV };
	const uint64_t *deny = opt.ndeny ? opt.deny : opt.private_only ? deny_private_only :
			       opt.default_vm ? deny_default : deny_priv;
	unsigned int ndeny = opt.ndeny ? opt.ndeny : opt.private_only ? 1 : opt.default_vm ? 3 : 4;
	static __thread uint64_t snap[A_MAX_PAGES][MAX_VCPUS], snap_gen[A_MAX_PAGES];

	while (!done) {
		uint64_t first, n, p, v, attrs;

		pick_range(&seed, id, &first, &n);
		attrs = deny[rand_r(&seed) % ndeny];
		pthread_mutex_lock(lock);
		set_locked(first, n, attrs);
		/* The SET has returned: no vCPU may write these pages any more. */
		for (p = 0; p < n; p++) {
			uint64_t *hva = page_hva(first + p);

			for (v = 0; v < opt.nvcpus; v++)
				snap[p][v] = READ_ONCE(hva[v]);
			snap_gen[p] = gen[first + p];
		}
		pthread_mutex_unlock(lock);

		usleep(1000 + rand_r(&seed) % 2000);

		pthread_mutex_lock(lock);
		for (p = 0; p < n; p++) {
			uint64_t *hva = page_hva(first + p);

			/* Still as this thread left it: the contents must not have moved. */
			if (gen[first + p] != snap_gen[p] || !write_denied(model[first + p]))
				continue;
			for (v = 0; v < opt.nvcpus; v++)
				TEST_ASSERT(READ_ONCE(hva[v]) == snap[p][v],
					    "page %lu (attrs %#lx): vCPU %lu wrote after the SET denied it (seed %u)",
					    first + p, model[first + p], v, opt.seed);
			__atomic_fetch_add(&checks, 1, __ATOMIC_RELAXED);
		}
		/* Relax, sometimes only to NX (writes allowed again). */
		set_locked(first, n, rand_r(&seed) % 3 || opt.private_only || opt.uniform ? 0 : NX);
		pthread_mutex_unlock(lock);
		protector_rounds[id]++;
		if (opt.uniform) {
			/* Once the other's pages are relaxed too, a touch maps huge. */
			usleep(1000 + rand_r(&seed) % 2000);
			note_pages_2m();
		}
	}
	return NULL;
}

static void *slot_thread(void *arg)
{
	while (!done) {
		vm_mem_region_delete(vm, B_SLOT);
		usleep(500);
		vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, B_GPA, B_SLOT, B_PAGES, 0);
		usleep(2000);
		slot_cycles++;
	}
	return NULL;
}

/* Reads the VM's aggregated vCPU statistics from debugfs into vals[]. */
static int read_vm_stats(char names[][32], uint64_t *vals, int max)
{
	char dir[128], path[400];
	struct dirent *d;
	DIR *dp;
	int n = 0;

	memattr_debugfs_path(vm, "", dir, sizeof(dir));
	dp = opendir(dir);
	if (!dp)
		return 0;
	while ((d = readdir(dp)) && n < max) {
		unsigned long long v;
		FILE *f;

		snprintf(path, sizeof(path), "%s%s", dir, d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%llu", &v) == 1) {
			snprintf(names[n], 32, "%.31s", d->d_name);
			vals[n++] = v;
		}
		fclose(f);
	}
	closedir(dp);
	return n;
}

static void kick(int sig)
{
}

/* The VM's current number of 2 MiB mappings (KVM's pages_2m), or -1. */
static long vm_pages_2m(void)
{
	char path[128];
	long v = -1;
	FILE *f;

	memattr_debugfs_path(vm, "pages_2m", path, sizeof(path));
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/*
 * Prints what every thread was doing, then fails, if the run overstays:
 * which KVM statistics still move (is a vCPU exiting, faulting, halted?),
 * then kicks each vCPU still in KVM_RUN with a signal so that it prints its
 * registers.
 */
static void *watchdog(void *arg)
{
	static char names[128][32];
	static uint64_t before[128], after[128];
	int limit = opt.duration + 60, i, n;

	for (i = 0; i < limit * 10 && !finished; i++) {
		long p2m = vm_pages_2m();

		if (p2m > max_pages_2m)
			max_pages_2m = p2m;
		usleep(100 * 1000);
	}
	if (finished)
		return NULL;
	fprintf(stderr, "watchdog: still running %ds after the start (seed %u); done=%d\n",
		limit, opt.seed, done);
	for (i = 0; i < opt.nvcpus; i++)
		fprintf(stderr, "  vCPU %d: %s KVM_RUN, %lu runs, last exit %u (%s), %lu denied, "
			"%lu MMIO, last fault gpa %#lx flags %#lx\n",
			i, vstat[i].in_run ? "in" : "out of", vstat[i].runs, vstat[i].last_exit,
			exit_reason_str(vstat[i].last_exit), vstat[i].denied, vstat[i].mmio,
			vstat[i].last_gpa, vstat[i].last_flags);
	for (i = 0; i < nprot; i++)
		fprintf(stderr, "  protector %d: %lu rounds\n", i, protector_rounds[i]);
	fprintf(stderr, "  %lu SETs, %lu checks, %lu memslot cycles\n", sets, checks, slot_cycles);
	n = read_vm_stats(names, before, 128);
	sleep(1);
	read_vm_stats(names, after, n);
	fprintf(stderr, "  VM statistics that moved in 1 s:");
	for (i = 0; i < n; i++)
		if (after[i] != before[i])
			fprintf(stderr, " %s +%lu", names[i], after[i] - before[i]);
	fprintf(stderr, "\n");
	finished = true;
	for (i = 0; i < opt.nvcpus; i++)
		if (vstat[i].in_run)
			pthread_kill(vcpu_threads[i], SIGUSR1);
	sleep(10);
	TEST_FAIL("timed out (seed %u)", opt.seed);
	return NULL;
}

static void usage(const char *name)
{
	printf("usage: %s [-s seed] [-d seconds] [-v vcpus (1-%d)] [-t] [-g] [-D] [-M] [-P] [-c]\n"
	       "       [-u] [-a A,B,...]\n"
	       "  -t  THP-backed, 2 MiB-aligned protected slot; whole-huge-page SETs too\n"
	       "  -g  guest_memfd-backed protected slot: PRIVATE converts for real\n"
	       "  -D  default VM (no PRIVATE), e.g. for shadow paging\n"
	       "  -M  no memslot delete/re-create thread\n"
	       "  -P  PRIVATE conversions only (runs on upstream's C store too)\n"
	       "  -c  four protectors on pages of their own, SETs concurrent\n"
	       "  -u  with -c -t: two protectors that pause after each relax, so huge pages\n"
	       "      map huge between SETs (fails if no 2 MiB mapping is seen)\n"
	       "  -a  A,B,...  the attribute values to deny with (default: all kinds)\n",
	       name, MAX_VCPUS);
	exit(KSFT_FAIL);
}

int main(int argc, char *argv[])
{
	struct vm_shape shape = { .mode = VM_MODE_DEFAULT, .type = KVM_X86_SW_PROTECTED_VM };
	struct kvm_vcpu *vcpus[MAX_VCPUS];
	pthread_t vt[MAX_VCPUS], pt[NR_PROTECTORS], st, wd;
	enum vm_mem_backing_src_type src = VM_MEM_SRC_ANONYMOUS;
	struct kvm_memory_attributes a;
	uint64_t gpa, end;
	unsigned long denied = 0, mmio = 0;
	int i, c;

	opt.seed = time(NULL) ^ getpid();
	while ((c = getopt(argc, argv, "s:d:v:tgDMPcua:h")) != -1) {
		switch (c) {
		case 's': opt.seed = strtoul(optarg, NULL, 0); break;
		case 'd': opt.duration = atoi(optarg); break;
		case 'v': opt.nvcpus = atoi(optarg); break;
		case 't': opt.thp = true; break;
		case 'g': opt.gmem = true; break;
		case 'D': opt.default_vm = true; break;
		case 'M': opt.no_slot_thread = true; break;
		case 'P': opt.private_only = true; break;
		case 'c': opt.concurrent = true; nprot = NR_PROTECTORS; break;
		case 'u': opt.uniform = true; break;
		case 'a': {
			char *tok = strtok(strdup(optarg), ",");

			for (; tok && opt.ndeny < 8; tok = strtok(NULL, ","))
				opt.deny[opt.ndeny++] = strtoull(tok, NULL, 0);
			break;
		}
		default: usage(argv[0]);
		}
	}
	if (opt.nvcpus < 1 || opt.nvcpus > MAX_VCPUS || opt.duration < 1 ||
	    (opt.gmem && opt.default_vm) || (opt.gmem && opt.thp) ||
	    (opt.private_only && opt.default_vm) ||
	    (opt.uniform && !(opt.concurrent && opt.thp)))
		usage(argv[0]);
	if (opt.uniform)
		nprot = 2;
	printf("seed %u (replay:", opt.seed);
	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], "-s") && (i == 0 || strcmp(argv[i - 1], "-s")))
			printf(" %s", argv[i]);
	printf(" -s %u)\n", opt.seed);

	if (opt.default_vm) {
		shape.type = VM_TYPE_DEFAULT;
	} else {
		TEST_REQUIRE(kvm_check_cap(KVM_CAP_VM_TYPES) & BIT(KVM_X86_SW_PROTECTED_VM));
	}
	if (opt.gmem)
		TEST_REQUIRE(kvm_has_cap(KVM_CAP_GUEST_MEMFD));
	if (opt.thp) {
		TEST_REQUIRE(get_trans_hugepagesz() == 2 * 1024 * 1024);
		src = VM_MEM_SRC_ANONYMOUS_THP;
	}
	a_pages = opt.thp ? A_MAX_PAGES : 512;

	vm = __vm_create_with_vcpus(shape, opt.nvcpus, a_pages + B_PAGES, guest_code, vcpus);
	TEST_REQUIRE(vm_check_cap(vm, KVM_CAP_MEMORY_ATTRIBUTES) & (opt.private_only ? PRIV : NW));
	vm_mem_add(vm, src, A_GPA, A_SLOT, a_pages, opt.gmem ? KVM_MEM_GUEST_MEMFD : 0, -1, 0);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, B_GPA, B_SLOT, B_PAGES, 0);
	virt_map(vm, A_GPA, A_GPA, a_pages);
	virt_map(vm, B_GPA, B_GPA, B_PAGES);
	guest_pages = a_pages;
	guest_read_b = !opt.no_slot_thread;
	sync_global_to_guest(vm, guest_pages);
	sync_global_to_guest(vm, guest_read_b);

	signal(SIGUSR1, kick);
	pthread_create(&wd, NULL, watchdog, NULL);
	for (i = 0; i < opt.nvcpus; i++) {
		vcpu_args_set(vcpus[i], 1, i);
		pthread_create(&vt[i], NULL, vcpu_thread, vcpus[i]);
		vcpu_threads[i] = vt[i];
	}
	for (i = 0; i < nprot; i++)
		pthread_create(&pt[i], NULL, protector, (void *)(uintptr_t)i);
	if (!opt.no_slot_thread)
		pthread_create(&st, NULL, slot_thread, NULL);

	sleep(opt.duration);
	done = true;
	for (i = 0; i < nprot; i++)
		pthread_join(pt[i], NULL);
	if (!opt.no_slot_thread)
		pthread_join(st, NULL);

	/* Nothing lost or reordered: the map is exactly the model. */
	end = A_GPA + a_pages * SZ_4K;
	for (gpa = A_GPA; gpa < end; gpa += a.size) {
		a = (struct kvm_memory_attributes){ .address = gpa, .size = end - gpa };
		vm_ioctl(vm, KVM_GET_MEMORY_ATTRIBUTES, &a);
		for (uint64_t p = (gpa - A_GPA) / SZ_4K; p < (gpa + a.size - A_GPA) / SZ_4K; p++)
			TEST_ASSERT(model[p] == a.attributes, "page %lu: GET %#llx, model %#lx (seed %u)",
				    p, a.attributes, model[p], opt.seed);
	}

	/* Let the vCPUs finish. */
	set_locked(0, a_pages, 0);
	*(uint64_t *)addr_gva2hva(vm, (uint64_t)&stop) = 1;
	for (i = 0; i < opt.nvcpus; i++) {
		pthread_join(vt[i], NULL);
		denied += vstat[i].denied;
		mmio += vstat[i].mmio;
	}
	finished = true;
	pthread_join(wd, NULL);
	if (opt.uniform) {
		pr_info("-u: %lu of %lu samples between SETs saw a 2 MiB mapping\n",
			huge_seen, huge_samples);
		TEST_ASSERT(huge_seen, "-u: no 2 MiB mapping in %lu samples (seed %u)",
			    huge_samples, opt.seed);
	}

	pr_info("stress %ds seed %u, %d vCPUs%s%s%s, %d protectors%s: %lu SETs (%lu entered "
		"while another was in the kernel), %lu denied-page checks, "
		"%lu denied exits, %lu MMIO exits, "
		"%lu memslot cycles, at most %ld 2 MiB mappings; map equals model\n",
		opt.duration, opt.seed, opt.nvcpus, opt.thp ? ", THP" : "",
		opt.gmem ? ", guest_memfd" : "", opt.default_vm ? ", default VM" : "",
		nprot, opt.concurrent ? " on pages of their own" : "",
		sets, overlapped, checks, denied, mmio, slot_cycles, max_pages_2m);
	kvm_vm_free(vm);
	return 0;
}
