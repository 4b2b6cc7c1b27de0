// SPDX-License-Identifier: GPL-2.0-only
/*
 * NR/NW/NX against accesses KVM makes itself on the guest's behalf:
 *
 *  - emulator vs SET: an emulated write or read that passed the attribute
 *    check is parked on a missing page (userfaultfd) while another thread
 *    SETs NW or NR.  The SET must not return before that access completes,
 *    or the access lands after the page was protected.
 *  - skip: an RDMSR that exited to userspace is skipped after its page
 *    became NX.  With kvm_amd.nrips=0 KVM decodes it again to find its
 *    length; the skip must still move RIP past it exactly once.
 *  - KVM_HC_CLOCK_PAIRING into an NW page exits with KVM_EXIT_MEMORY_FAULT
 *    and writes nothing; after relaxing, the hypercall runs.
 *  - MMIO gfns (no memslot): NW/NR deny the emulated MMIO access, also once
 *    KVM has cached an MMIO SPTE for the gfn, and NW denies a write that a
 *    zero-length ioeventfd would complete in the kernel (on VMX, without
 *    decoding it: the fast MMIO path).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <linux/kvm_para.h>
#include <linux/userfaultfd.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "memattr_util.h"

#define NR	KVM_MEMORY_ATTRIBUTE_NR
#define NW	KVM_MEMORY_ATTRIBUTE_NW
#define NX	KVM_MEMORY_ATTRIBUTE_NX
#define F_READ	KVM_MEMORY_EXIT_FLAG_READ
#define F_WRITE	KVM_MEMORY_EXIT_FLAG_WRITE
#define F_EXEC	KVM_MEMORY_EXIT_FLAG_EXEC

#define DATA_GPA	0xc0000000ULL	/* identity-mapped in the guest */
#define DATA_SLOT	10
#define DATA_PAGES	16
#define MMIO_GPA	0xd0000000ULL	/* no memslot */
#define SZ_4K		4096ULL
#define PAGE(n)		(DATA_GPA + (n) * SZ_4K)
#define SKIP_MSR	0x4d454d41	/* unknown to KVM: exits to userspace */
/* How long a SET that should wait for the parked access is given to return. */
#define SET_WAIT_MS	2000

enum { OP_SKIP = OP_LOCAL, OP_CLOCK_PAIRING };

static uint64_t cmd_op, cmd_gva, cmd_val;

/* A page of its own holding "rdmsr SKIP_MSR; ret": made NX by the test. */
uint64_t skip_page(void);
void skip_after_rdmsr(void);
asm(".pushsection .text.memattr_skip, \"ax\"\n"
    ".balign 4096\n"
    "skip_page:\n"
    "	movl $" __stringify(SKIP_MSR) ", %ecx\n"
    "	rdmsr\n"
    "skip_after_rdmsr:\n"
    "	ret\n"
    ".balign 4096\n"
    ".popsection\n");

static void guest_code(void)
{
	for (;;) {
		uint64_t gva = READ_ONCE(cmd_gva), op = READ_ONCE(cmd_op), r;

		switch (op) {
		case OP_SKIP:
			r = (uint32_t)skip_page();
			break;
		case OP_CLOCK_PAIRING:
			r = kvm_hypercall(KVM_HC_CLOCK_PAIRING, gva, KVM_CLOCK_PAIRING_WALLCLOCK,
					  0, 0);
			break;
		default:
			r = memattr_guest_access(op, gva, READ_ONCE(cmd_val));
		}
		GUEST_SYNC(r);
	}
}

static struct memattr_vm create(void)
{
	struct memattr_vm v;

	v = memattr_vm_create(guest_code, DATA_GPA, DATA_SLOT, DATA_PAGES);
	virt_pg_map(v.vm, MMIO_GPA, MMIO_GPA);
	/* 4 KiB pages: the uffd part drops and registers single pages. */
	TEST_ASSERT(!madvise(addr_gpa2hva(v.vm, DATA_GPA), DATA_PAGES * SZ_4K,
			     MADV_NOHUGEPAGE), "MADV_NOHUGEPAGE");
	return v;
}

static uint64_t *hva(struct memattr_vm *v, uint64_t gpa)
{
	return addr_gpa2hva(v->vm, gpa);
}

static void set_cmd(struct memattr_vm *v, uint64_t o, uint64_t gva, uint64_t val)
{
	cmd_op = o;
	cmd_gva = gva;
	cmd_val = val;
	sync_global_to_guest(v->vm, cmd_op);
	sync_global_to_guest(v->vm, cmd_gva);
	sync_global_to_guest(v->vm, cmd_val);
}

static uint64_t run_once(struct memattr_vm *v, uint64_t gpa, uint64_t *out)
{
	return memattr_run_access(v->vcpu, gpa, out);
}

static uint64_t op(struct memattr_vm *v, uint64_t o, uint64_t gpa, uint64_t val, uint64_t *out)
{
	set_cmd(v, o, gpa, val);
	return run_once(v, gpa, out);
}

static bool forced_emulation(void)
{
	if (!is_forced_emulation_enabled)
		pr_info("forced emulation off (kvm.force_emulation_prefix=0): part not run\n");
	return is_forced_emulation_enabled;
}

/* Emulator vs SET ------------------------------------------------------- */

struct race {
	struct memattr_vm *v;
	uint64_t gpa, attrs;
	uint64_t op, val, result, flags;
	volatile bool set_done;
};

static void *vcpu_thread(void *arg)
{
	struct race *r = arg;

	r->flags = op(r->v, r->op, r->gpa, r->val, &r->result);
	return NULL;
}

static void *set_thread(void *arg)
{
	struct race *r = arg;

	memattr_set(r->v->vm, r->gpa, SZ_4K, r->attrs);
	__atomic_store_n(&r->set_done, true, __ATOMIC_RELEASE);
	return NULL;
}

static bool wait_set_done(struct race *r, int ms)
{
	for (int i = 0; i < ms; i += 10) {
		if (__atomic_load_n(&r->set_done, __ATOMIC_ACQUIRE))
			return true;
		usleep(10000);
	}
	return false;
}

/*
 * @write: an emulated store of NEW to a page holding OLD, racing SET NW.
 * !@write: an emulated load, racing SET NR|NW|NX; the page gets SECRET only
 * if the SET has already returned, so the guest must never see SECRET.
 */
static void test_emulator_vs_set(bool write)
{
	const uint64_t OLD = 0x1111, NEW = 0x2222, SECRET = 0x5ec2e7;
	struct race r = {};
	pthread_t vt, st;
	struct memattr_vm v;
	bool early;
	void *page;
	int uffd;

	if (!forced_emulation())
		return;
	v = create();
	r.v = &v;
	r.gpa = PAGE(3);
	r.attrs = write ? NW : NR | NW | NX;
	r.op = write ? OP_FEP_WRITE : OP_FEP_READ;
	r.val = NEW;
	page = hva(&v, r.gpa);

	/* Warm up: the same access completes while nothing is protected. */
	TEST_ASSERT(!op(&v, r.op, r.gpa, OLD, NULL), "unprotected emulated access denied");
	*(uint64_t *)page = OLD;

	uffd = memattr_uffd_park(page);
	pthread_create(&vt, NULL, vcpu_thread, &r);
	memattr_uffd_wait_fault(uffd, page);
	/* The vCPU passed the attribute check and waits inside the access. */
	pthread_create(&st, NULL, set_thread, &r);
	early = wait_set_done(&r, SET_WAIT_MS);
	memattr_uffd_fill(uffd, page, early && !write ? SECRET : OLD);
	pthread_join(vt, NULL);
	pthread_join(st, NULL);
	close(uffd);

	TEST_ASSERT(!r.flags, "the parked access was denied (flags %#lx)", r.flags);
	if (write)
		TEST_ASSERT(!early,
			    "SET NW returned while an emulated write to the page was in flight; "
			    "the write then landed (page %#lx, was %#lx)",
			    *(uint64_t *)page, OLD);
	else
		TEST_ASSERT(!early && r.result == OLD,
			    "SET NR returned while an emulated read of the page was in flight; "
			    "the guest then read %#lx (%#lx was stored after the SET returned)",
			    r.result, SECRET);
	TEST_ASSERT_EQ(*(uint64_t *)page, write ? NEW : OLD);

	/* After the SET, the same access is denied and changes nothing. */
	TEST_ASSERT_EQ(op(&v, r.op, r.gpa, 0x3333, NULL), write ? F_WRITE : F_READ);
	TEST_ASSERT_EQ(*(uint64_t *)page, write ? NEW : OLD);
	kvm_vm_free(v.vm);
	pr_info("emulated %s vs SET %s: the SET returned only after the access: ok\n",
		write ? "write" : "read", write ? "NW" : "NR");
}

/* Skipping an instruction on an NX page ---------------------------------- */

static void test_skip_on_nx_page(void)
{
	uint64_t code_gpa, after = (uint64_t)skip_after_rdmsr, r;
	struct kvm_run *run;
	struct kvm_regs regs;
	struct memattr_vm v = create();
	char nrips = '?';
	FILE *f;

	/* SVM skips by decoding unless NRIPS; VMX reads the instruction length. */
	f = host_cpu_is_amd ? fopen("/sys/module/kvm_amd/parameters/nrips", "r") : NULL;
	if (f) {
		nrips = fgetc(f);
		fclose(f);
	}
	code_gpa = addr_gva2gpa(v.vm, (uint64_t)skip_page);
	vm_enable_cap(v.vm, KVM_CAP_X86_USER_SPACE_MSR, KVM_MSR_EXIT_REASON_UNKNOWN);
	run = v.vcpu->run;

	set_cmd(&v, OP_SKIP, 0, 0);
	vcpu_run(v.vcpu);
	TEST_ASSERT(run->exit_reason == KVM_EXIT_X86_RDMSR && run->msr.index == SKIP_MSR,
		    "expected RDMSR %#x in userspace, exit %u (%s)", SKIP_MSR, run->exit_reason,
		    exit_reason_str(run->exit_reason));
	run->msr.error = 0;
	run->msr.data = 0x1234;

	/* While the vCPU is in userspace, its code page becomes NX. */
	memattr_set(v.vm, code_gpa, SZ_4K, NX);
	TEST_ASSERT_EQ(run_once(&v, code_gpa, NULL), F_EXEC);
	vcpu_regs_get(v.vcpu, &regs);
	TEST_ASSERT(regs.rip == after,
		    "fetch fault at rip %#llx, expected %#lx (after the RDMSR, which retired): "
		    "the skip failed but counted as done (kvm_amd.nrips=%c)",
		    regs.rip, after, nrips);

	/* Relaxed: the guest returns with the MSR's value, no second RDMSR. */
	memattr_set(v.vm, code_gpa, SZ_4K, 0);
	TEST_ASSERT(!run_once(&v, code_gpa, &r), "denied after relaxing NX");
	TEST_ASSERT_EQ(r, 0x1234);
	kvm_vm_free(v.vm);
	pr_info("RDMSR on a page made NX while in userspace: skipped once (kvm_amd.nrips=%c): ok\n",
		nrips);
}

/* KVM_HC_CLOCK_PAIRING -------------------------------------------------- */

static void test_clock_pairing(void)
{
	/*
	 * struct kvm_clock_pairing is 64 bytes.  PAGE(7) is NW: a struct in
	 * PAGE(6) is written, one ending in or inside PAGE(7) is denied.
	 */
	const uint64_t targets[] = { PAGE(6) + 64, PAGE(7) - 32, PAGE(7) + 64 };
	const uint64_t denied = PAGE(7);
	uint8_t before[2 * SZ_4K];
	struct memattr_vm v = create();
	int written = 0;

	for (int i = 0; i < 3; i++) {
		uint64_t gpa = targets[i], ret = ~0ULL;
		struct kvm_regs regs;
		uint8_t *insn;

		memset(hva(&v, PAGE(6)), 0xaa, 2 * SZ_4K);
		memcpy(before, hva(&v, PAGE(6)), 2 * SZ_4K);
		memattr_set(v.vm, denied, SZ_4K, NW);
		set_cmd(&v, OP_CLOCK_PAIRING, gpa, 0);
		if (gpa + 64 <= denied) {
			TEST_ASSERT(!run_once(&v, gpa, &ret), "clock pairing outside NW denied");
		} else {
			TEST_ASSERT_EQ(run_once(&v, denied, NULL), F_WRITE);
			vcpu_regs_get(v.vcpu, &regs);
			insn = addr_gva2hva(v.vm, regs.rip);
			TEST_ASSERT(insn[0] == 0x0f && insn[1] == 0x01 &&
				    (insn[2] == 0xc1 || insn[2] == 0xd9),
				    "RIP %#llx is not on the hypercall", regs.rip);
			TEST_ASSERT(!memcmp(before, hva(&v, PAGE(6)), 2 * SZ_4K),
				    "the denied hypercall at %#lx wrote guest memory", gpa);
			memattr_set(v.vm, denied, SZ_4K, 0);
			TEST_ASSERT(!run_once(&v, gpa, &ret), "denied after relaxing NW");
		}
		TEST_ASSERT(ret == 0 || ret == (uint64_t)-KVM_EOPNOTSUPP,
			    "clock pairing returned %ld", (long)ret);
		if (!ret) {
			TEST_ASSERT(memcmp(before, hva(&v, PAGE(6)), 2 * SZ_4K),
				    "clock pairing at %#lx succeeded but wrote nothing", gpa);
			written++;
		}
		memattr_set(v.vm, denied, SZ_4K, 0);
	}
	kvm_vm_free(v.vm);
	pr_info("KVM_HC_CLOCK_PAIRING into an NW page: memory fault, nothing written; "
		"allowed: runs (%s): ok\n",
		written ? "wrote the pairing" : "host clock not TSC-based, -KVM_EOPNOTSUPP");
}

/* MMIO gfns --------------------------------------------------------------- */

static void expect_mmio(struct memattr_vm *v, bool write)
{
	struct kvm_run *run = v->vcpu->run;
	int r = _vcpu_run(v->vcpu);

	if (r || run->exit_reason != KVM_EXIT_MMIO)
		memattr_report_exit(v->vcpu, r, errno, "expected an MMIO exit");
	TEST_ASSERT(!r && run->exit_reason == KVM_EXIT_MMIO && run->mmio.phys_addr == MMIO_GPA &&
		    run->mmio.is_write == write,
		    "expected an MMIO %s at %#llx, exit %u", write ? "write" : "read", MMIO_GPA,
		    run->exit_reason);
	/* Complete it; the guest then reports back. */
	TEST_ASSERT(!run_once(v, MMIO_GPA, NULL), "completing the MMIO access failed");
}

static void test_mmio_gfn(void)
{
	struct memattr_vm v = create();

	/* First access: KVM caches an MMIO SPTE for the gfn. */
	set_cmd(&v, OP_WRITE, MMIO_GPA, 1);
	expect_mmio(&v, true);
	/* Denied accesses are retried by the guest: relaxing completes them. */
	memattr_set(v.vm, MMIO_GPA, SZ_4K, NW);
	TEST_ASSERT_EQ(op(&v, OP_WRITE, MMIO_GPA, 2, NULL), F_WRITE);
	memattr_set(v.vm, MMIO_GPA, SZ_4K, 0);
	expect_mmio(&v, true);
	memattr_set(v.vm, MMIO_GPA, SZ_4K, NR | NW | NX);
	TEST_ASSERT_EQ(op(&v, OP_READ, MMIO_GPA, 0, NULL), F_READ);
	memattr_set(v.vm, MMIO_GPA, SZ_4K, 0);
	expect_mmio(&v, false);
	kvm_vm_free(v.vm);
	pr_info("MMIO gfn without a memslot: NW/NR deny, also with a cached MMIO SPTE: ok\n");
}

static uint64_t eventfd_count(int efd)
{
	uint64_t n = 0;

	if (read(efd, &n, sizeof(n)) != sizeof(n))
		TEST_ASSERT(errno == EAGAIN, "read(eventfd): errno %d", errno);
	return n;
}

static void test_mmio_ioeventfd(void)
{
	const uint64_t gpa = MMIO_GPA + 0x100;
	int efd = eventfd(0, EFD_NONBLOCK);
	struct kvm_ioeventfd io = { .addr = gpa, .len = 0, .fd = efd };
	struct memattr_vm v = create();

	TEST_ASSERT(efd >= 0, "eventfd()");
	/* Length 0: KVM_FAST_MMIO_BUS as well as KVM_MMIO_BUS. */
	vm_ioctl(v.vm, KVM_IOEVENTFD, &io);
	/* Twice: the first write also leaves an MMIO SPTE behind. */
	for (int i = 0; i < 2; i++) {
		TEST_ASSERT(!op(&v, OP_WRITE, gpa, 1, NULL), "unprotected ioeventfd write denied");
		TEST_ASSERT_EQ(eventfd_count(efd), 1);
	}
	memattr_set(v.vm, MMIO_GPA, SZ_4K, NW);
	TEST_ASSERT_EQ(op(&v, OP_WRITE, gpa, 2, NULL), F_WRITE);
	TEST_ASSERT(!eventfd_count(efd), "a write denied by NW signalled the ioeventfd");
	memattr_set(v.vm, MMIO_GPA, SZ_4K, 0);
	TEST_ASSERT(!run_once(&v, gpa, NULL), "retry after relaxing NW denied");
	TEST_ASSERT_EQ(eventfd_count(efd), 1);
	close(efd);
	kvm_vm_free(v.vm);
	pr_info("zero-length ioeventfd on an MMIO gfn: NW denies the write, nothing signalled: ok\n");
}

static void test_write_race(void) { test_emulator_vs_set(true); }
static void test_read_race(void) { test_emulator_vs_set(false); }

static const struct memattr_part parts[] = {
	{ "write-race", test_write_race },
	{ "read-race", test_read_race },
	{ "skip", test_skip_on_nx_page },
	{ "clock-pairing", test_clock_pairing },
	{ "mmio", test_mmio_gfn },
	{ "mmio-ioeventfd", test_mmio_ioeventfd },
};

/* memattr_kvm_access_test [PART...]: all parts, or only those named. */
int main(int argc, char *argv[])
{
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_MEMORY_ATTRIBUTES));
	TEST_REQUIRE(kvm_check_cap(KVM_CAP_MEMORY_ATTRIBUTES) & NW);
	memattr_run_parts(parts, ARRAY_SIZE(parts), argc, argv);
	return 0;
}
