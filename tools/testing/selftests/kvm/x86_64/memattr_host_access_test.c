// SPDX-License-Identifier: GPL-2.0-only
/*
 * NR/NW against the guest-memory areas KVM writes on its own, outside any
 * guest instruction (Documentation/virt/kvm/memory-attributes.rst, 1.6).
 * For each vector the page is filled with a pattern through the VMM's
 * mapping, then:
 *
 *  - registered in an NW page: KVM writes nothing there (the pattern
 *    survives KVM_RUNs that would update it) and the VM's
 *    memattr_host_denied stat counts the refusal; MSRs whose registration
 *    KVM checks today (PV EOI, async PF) fail with #GP as for a gpa without
 *    memslot, while the VMM restoring them (KVM_SET_MSRS) is accepted and
 *    KVM still writes nothing;
 *  - relaxed: after clearing NW the feature works (KVM writes the page);
 *  - tightened while in use (steal time, kvmclock, PV EOI, async PF): a SET
 *    of NW on the page KVM already writes stops the writes (for PV EOI, an
 *    interrupt delivered after the SET comes without the PV EOI bit and is
 *    EOI'd at the APIC; for async PF, a read of a missing page gets neither
 *    "page not present" nor "page ready").
 *
 * Also the guest's page-table walk (KVM's, on shadow paging and in the
 * emulator): a first access whose PTE needs its Accessed bit set in an NW
 * page-table page, and one whose PTE is in an NR page, exit with the memory
 * fault at the table's page as they do on NPT, where the CPU walks.
 *
 * Also an emulated "rep movsb" (forced emulation) into an NW page, and
 * nested SVM's VMRUN with its VMCB in an NW page, VMSAVE into an NW page and
 * VMLOAD from an NR page (instructions KVM completes by mapping the page):
 * memory fault with RIP on the instruction, nothing written; relaxed, the
 * instruction runs.  And the #VMEXIT of an L2 whose VMCB was made NW while
 * it ran: the VMCB keeps its bytes, the refusal is counted.
 *
 * Also SMM entry, which writes the state-save area at SMBASE + 0xfe00 and,
 * on SVM from L2, the #VMEXIT to VMCB12 and L1's state to the HSAVE area:
 * with one of them NW, KVM_RUN exits with the memory fault and the SMI
 * stays pending; relaxed, the SMI is taken.  RSM, which reads them back,
 * exits with the memory fault when one is NR; relaxed, it returns (to L2).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <linux/kvm_para.h>
#include <linux/stringify.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "memattr_util.h"
#include "svm_util.h"
#include "vmx.h"
#include "hyperv.h"
#include "apic.h"

#define NR		KVM_MEMORY_ATTRIBUTE_NR
#define NW		KVM_MEMORY_ATTRIBUTE_NW
#define NX		KVM_MEMORY_ATTRIBUTE_NX
#define F_READ		KVM_MEMORY_EXIT_FLAG_READ
#define F_WRITE		KVM_MEMORY_EXIT_FLAG_WRITE
#define DATA_GPA	0xc0000000ULL	/* identity-mapped in the guest */
#define DATA_SLOT	10
#define DATA_PAGES	8
#define SZ_4K		4096ULL
#define PAGE(n)		(DATA_GPA + (n) * SZ_4K)
/* L2's exit to the VMM, and what the VMM puts in VMCB12's exit code. */
#define L2_PORT		0xe9
#define EXIT_MARKER	0x5a5aULL
/* KVM_RUNs given to KVM to update an area (each loads the vCPU). */
#define RUNS		8
/* The guest's self-IPI, and what its handler saw. */
#define IPI_VECTOR	0xe0
#define IPI_APIC_EOI	1	/* no PV EOI bit: EOI written to the APIC */
#define IPI_PV_EOI	2	/* KVM set the PV EOI bit: cleared, no APIC EOI */
#define IPI_ROUNDS	16
#define IPI_LOST	~0ULL
/* SMRAM as in upstream's smm_test; the save area is in its last page. */
#define SMRAM_GPA	0x1000000ULL
#define SMRAM_SLOT	((1 << 16) | 1)
#define SMRAM_PAGES	16
#define SMRAM_SAVE	(SMRAM_GPA + 0xfe00)
#define SMM_PORT	0xe
#define SMM_STAGE	0xfe

/* Async PF: the "page ready" interrupt. */
#define APF_VECTOR	0xec

enum { OP_WRMSR = OP_LOCAL, OP_REP_MOVSB, OP_NOP, OP_SELF_IPI, OP_APF_TOUCH, OP_IRQ_WINDOW };

static uint64_t cmd_op, cmd_a, cmd_b;
static uint64_t pv_eoi_gva, ipi_seen;

/*
 * A Linux guest's PV EOI: if KVM set the bit, clear it instead of the EOI.
 * The clear is a test-and-clear in one instruction, as in Linux: KVM takes
 * the bit back at a vmexit (and then wants the EOI at the APIC), so deciding
 * on an earlier read, with a write fault between it and the clear, would EOI
 * neither way.  The bit is read first only so that an NW page, where it is
 * never set, is not written.
 */
static void guest_ipi_handler(struct ex_regs *regs)
{
	uint32_t *pv_eoi = (uint32_t *)READ_ONCE(pv_eoi_gva);
	uint8_t was_set = 0;

	if (READ_ONCE(*pv_eoi) & KVM_PV_EOI_ENABLED)
		asm volatile("btrl %2, %0\n\tsetc %1"
			     : "+m"(*pv_eoi), "=q"(was_set) : "i"(KVM_PV_EOI_BIT) : "cc");
	if (was_set) {
		WRITE_ONCE(ipi_seen, IPI_PV_EOI);
	} else {
		x2apic_write_reg(APIC_EOI, 0);
		WRITE_ONCE(ipi_seen, IPI_APIC_EOI);
	}
}

/*
 * Raise IPI_VECTOR on this CPU IPI_ROUNDS times; return how many deliveries
 * came with the PV EOI bit, or IPI_LOST if one was not delivered.  A vmexit
 * between the delivery and the handler's read clears the bit (KVM then wants
 * the EOI at the APIC), so a single delivery may come without it: the first
 * one takes the NPT faults on the handler's pages, and under emulation L1's
 * timer can exit at any instruction.
 */
static uint64_t guest_self_ipi(uint64_t pv_eoi)
{
	uint64_t with_bit = 0;
	int i;

	WRITE_ONCE(pv_eoi_gva, pv_eoi);
	x2apic_enable();
	for (i = 0; i < IPI_ROUNDS; i++) {
		WRITE_ONCE(ipi_seen, 0);
		x2apic_write_reg(APIC_ICR, APIC_DEST_SELF | APIC_DM_FIXED | IPI_VECTOR);
		asm volatile("sti; nop; nop; cli" : : : "memory");
		if (!READ_ONCE(ipi_seen))
			return IPI_LOST;
		with_bit += READ_ONCE(ipi_seen) == IPI_PV_EOI;
	}
	return with_bit;
}

/*
 * What the guest saw of async PF: "page not present" #PFs and "page ready"
 * interrupts, less the "wake up all" ready (token ~0) that enabling it sends.
 */
static uint64_t apf_gva, apf_not_present, apf_ready, apf_np_token, apf_ready_token;
#define APF_WAKEUP_ALL	0xffffffffU

/* The only #PF this guest takes: an async "page not present", CR2 its token. */
static void guest_apf_not_present(struct ex_regs *regs)
{
	struct kvm_vcpu_pv_apf_data *apf = (void *)READ_ONCE(apf_gva);
	uint64_t cr2;

	asm volatile("mov %%cr2, %0" : "=r"(cr2));
	GUEST_ASSERT_EQ(READ_ONCE(apf->flags), KVM_PV_REASON_PAGE_NOT_PRESENT);
	WRITE_ONCE(apf->flags, 0);
	WRITE_ONCE(apf_np_token, cr2);
	WRITE_ONCE(apf_not_present, apf_not_present + 1);
}

/* "Page ready": take the token, free the slot, ack, EOI. */
static void guest_apf_ready(struct ex_regs *regs)
{
	struct kvm_vcpu_pv_apf_data *apf = (void *)READ_ONCE(apf_gva);
	uint32_t token = READ_ONCE(apf->token);

	WRITE_ONCE(apf->token, 0);
	wrmsr(MSR_KVM_ASYNC_PF_ACK, 1);
	x2apic_write_reg(APIC_EOI, 0);
	if (token == APF_WAKEUP_ALL)
		return;
	WRITE_ONCE(apf_ready_token, token);
	WRITE_ONCE(apf_ready, apf_ready + 1);
}

/* Read @gva with interrupts on (async PF needs them; not in the STI shadow). */
static uint64_t guest_apf_touch(uint64_t gva)
{
	uint64_t val;

	x2apic_enable();
	asm volatile("sti; nop" : : : "memory");
	val = READ_ONCE(*(uint64_t *)gva);
	asm volatile("nop; nop; cli" : : : "memory");
	return val;
}

static void guest_code(void)
{
	for (;;) {
		uint64_t op = READ_ONCE(cmd_op), a = READ_ONCE(cmd_a);
		uint64_t b = READ_ONCE(cmd_b), r = 0, n = 16;

		switch (op) {
		case OP_WRMSR:
			r = wrmsr_safe(a, b);
			break;
		case OP_REP_MOVSB:
			asm volatile(KVM_FEP "rep movsb"
				     : "+S"(a), "+D"(b), "+c"(n) : : "memory");
			r = n;
			break;
		case OP_NOP:
			break;
		case OP_SELF_IPI:
			r = guest_self_ipi(a);
			break;
		case OP_APF_TOUCH:
			r = guest_apf_touch(a);
			break;
		case OP_IRQ_WINDOW:
			asm volatile("sti; nop; nop; cli" : : : "memory");
			break;
		default:
			r = memattr_guest_access(op, a, b);
		}
		GUEST_SYNC(r);
	}
}

static struct memattr_vm create(void)
{
	return memattr_vm_create(guest_code, DATA_GPA, DATA_SLOT, DATA_PAGES);
}

static uint8_t *hva(struct memattr_vm *v, uint64_t gpa)
{
	return addr_gpa2hva(v->vm, gpa);
}

/* Run the guest's command @op once; its result, or the memory-fault flags. */
static uint64_t run(struct memattr_vm *v, uint64_t op, uint64_t a, uint64_t b, uint64_t fault_gpa,
		    uint64_t *out)
{
	cmd_op = op;
	cmd_a = a;
	cmd_b = b;
	sync_global_to_guest(v->vm, cmd_op);
	sync_global_to_guest(v->vm, cmd_a);
	sync_global_to_guest(v->vm, cmd_b);
	return memattr_run_access(v->vcpu, fault_gpa, out);
}

static uint64_t guest_wrmsr(struct memattr_vm *v, uint32_t msr, uint64_t val)
{
	uint64_t vector = ~0ULL;

	TEST_ASSERT(!run(v, OP_WRMSR, msr, val, 0, &vector), "WRMSR %#x faulted", msr);
	return vector;
}

/* Give KVM RUNS vCPU loads (and so steal-time and clock updates) to write. */
static void idle(struct memattr_vm *v)
{
	for (int i = 0; i < RUNS; i++)
		TEST_ASSERT(!run(v, OP_NOP, 0, 0, 0, NULL), "idle run faulted");
}

static uint64_t denied_stat(struct memattr_vm *v)
{
	return vm_get_stat(v->vm, "memattr_host_denied");
}

static void fill(struct memattr_vm *v, uint64_t gpa, uint8_t byte, uint8_t *copy)
{
	memset(hva(v, gpa), byte, SZ_4K);
	memcpy(copy, hva(v, gpa), SZ_4K);
}

static void expect_untouched(struct memattr_vm *v, uint64_t gpa, const uint8_t *copy, const char *what)
{
	TEST_ASSERT(!memcmp(hva(v, gpa), copy, SZ_4K),
		    "%s: KVM wrote the NW page %#lx", what, gpa);
}

static void expect_written(struct memattr_vm *v, uint64_t gpa, const uint8_t *copy, const char *what)
{
	TEST_ASSERT(memcmp(hva(v, gpa), copy, SZ_4K),
		    "%s: KVM did not write the page %#lx after NW was cleared", what, gpa);
}

/*
 * Areas KVM keeps writing (steal time, kvmclock): registered in an NW page,
 * relaxed, then tightened while KVM uses the page.  @kick makes KVM update
 * the area once more.
 */
static void test_updated_area(const char *what, uint32_t msr, uint64_t enable,
			      void (*kick)(struct memattr_vm *v, uint32_t msr, uint64_t val))
{
	const uint64_t gpa = PAGE(2);
	struct memattr_vm v = create();
	uint8_t copy[SZ_4K];
	uint64_t before;

	fill(&v, gpa, 0xaa, copy);
	memattr_set(v.vm, gpa, SZ_4K, NW);
	before = denied_stat(&v);
	TEST_ASSERT_EQ(guest_wrmsr(&v, msr, gpa | enable), 0);
	idle(&v);
	expect_untouched(&v, gpa, copy, what);
	TEST_ASSERT(denied_stat(&v) > before,
		    "%s: no refused access counted (memattr_host_denied %lu)", what,
		    denied_stat(&v));

	memattr_set(v.vm, gpa, SZ_4K, 0);
	kick(&v, msr, gpa | enable);
	idle(&v);
	expect_written(&v, gpa, copy, what);

	/* KVM has the page cached and mapped now: tighten under it. */
	memattr_set(v.vm, gpa, SZ_4K, NW);
	fill(&v, gpa, 0x55, copy);
	before = denied_stat(&v);
	kick(&v, msr, gpa | enable);
	idle(&v);
	expect_untouched(&v, gpa, copy, what);
	TEST_ASSERT(denied_stat(&v) > before, "%s: tightened, no refusal counted", what);
	kvm_vm_free(v.vm);
	pr_info("%s in an NW page: not written, counted; relaxed: written; tightened in use: "
		"not written: ok\n", what);
}

static void kick_wrmsr(struct memattr_vm *v, uint32_t msr, uint64_t val)
{
	TEST_ASSERT_EQ(guest_wrmsr(v, msr, val), 0);
}

/* KVM_SET_CLOCK asks every vCPU for a kvmclock update, without the guest. */
static void kick_set_clock(struct memattr_vm *v, uint32_t msr, uint64_t val)
{
	struct kvm_clock_data data = {};

	vm_ioctl(v->vm, KVM_GET_CLOCK, &data);
	data.flags = 0;
	vm_ioctl(v->vm, KVM_SET_CLOCK, &data);
}

static void test_steal_time(void)
{
	test_updated_area("steal time", MSR_KVM_STEAL_TIME, KVM_MSR_ENABLED, kick_wrmsr);
}

static void test_kvmclock(void)
{
	test_updated_area("kvmclock", MSR_KVM_SYSTEM_TIME_NEW, 1, kick_set_clock);
}

/*
 * Areas KVM checks when the guest registers them (PV EOI, async PF): an NW
 * page is refused with #GP, as a gpa without memslot is; relaxed, accepted.
 */
static void test_registered_area(const char *what, uint32_t msr, uint64_t enable,
				 uint32_t setup_msr, uint64_t setup_val)
{
	const uint64_t gpa = PAGE(3);
	struct memattr_vm v = create();
	struct kvm_vcpu *vcpu = v.vcpu;
	uint8_t copy[SZ_4K];
	uint64_t before;

	if (setup_msr)
		TEST_ASSERT_EQ(guest_wrmsr(&v, setup_msr, setup_val), 0);
	fill(&v, gpa, 0xaa, copy);
	memattr_set(v.vm, gpa, SZ_4K, NW);
	before = denied_stat(&v);
	TEST_ASSERT_EQ(guest_wrmsr(&v, msr, gpa | enable), GP_VECTOR);
	idle(&v);
	expect_untouched(&v, gpa, copy, what);
	TEST_ASSERT(denied_stat(&v) > before, "%s: no refusal counted", what);
	TEST_ASSERT_EQ(guest_wrmsr(&v, msr, 0), 0);

	/* The VMM restoring the MSR (migration) is not refused; KVM writes nothing. */
	vcpu_set_msr(vcpu, msr, gpa | enable);
	TEST_ASSERT_EQ(vcpu_get_msr(vcpu, msr), gpa | enable);
	idle(&v);
	expect_untouched(&v, gpa, copy, what);
	vcpu_set_msr(vcpu, msr, 0);

	memattr_set(v.vm, gpa, SZ_4K, 0);
	TEST_ASSERT_EQ(guest_wrmsr(&v, msr, gpa | enable), 0);
	TEST_ASSERT_EQ(guest_wrmsr(&v, msr, 0), 0);
	kvm_vm_free(v.vm);
	pr_info("%s in an NW page: #GP as without memslot, counted; KVM_SET_MSRS accepted, "
		"nothing written; relaxed: accepted: ok\n", what);
}

static void test_pv_eoi(void)
{
	test_registered_area("PV EOI", MSR_KVM_PV_EOI_EN, KVM_MSR_ENABLED, 0, 0);
}

/*
 * PV EOI in use: KVM sets the bit when it delivers an interrupt (a
 * self-IPI); made NW, no delivery comes with it, the guest EOIs at the
 * APIC, the page keeps its bytes and the refusal is counted.  Allowed,
 * deliveries come with the bit (not necessarily all: see guest_self_ipi()).
 */
static void test_pv_eoi_use(void)
{
	const uint64_t gpa = PAGE(1);
	struct memattr_vm v = create();
	uint8_t copy[SZ_4K];
	uint64_t with_bit = 0, before;

	vm_install_exception_handler(v.vm, IPI_VECTOR, guest_ipi_handler);
	/* 0xaa: the PV EOI bit (bit 0) clear. */
	fill(&v, gpa, 0xaa, copy);
	TEST_ASSERT_EQ(guest_wrmsr(&v, MSR_KVM_PV_EOI_EN, gpa | KVM_MSR_ENABLED), 0);
	TEST_ASSERT(!run(&v, OP_SELF_IPI, gpa, 0, 0, &with_bit), "self-IPI faulted");
	TEST_ASSERT(with_bit != IPI_LOST && with_bit > 0,
		    "PV EOI in use: %lu of %d deliveries with the PV EOI bit (~0: one lost)",
		    with_bit, IPI_ROUNDS);

	memattr_set(v.vm, gpa, SZ_4K, NW);
	fill(&v, gpa, 0xaa, copy);
	before = denied_stat(&v);
	TEST_ASSERT(!run(&v, OP_SELF_IPI, gpa, 0, 0, &with_bit), "self-IPI faulted");
	TEST_ASSERT(with_bit == 0,
		    "PV EOI made NW: %lu of %d deliveries with the PV EOI bit (~0: one lost)",
		    with_bit, IPI_ROUNDS);
	expect_untouched(&v, gpa, copy, "PV EOI");
	TEST_ASSERT(denied_stat(&v) >= before + IPI_ROUNDS,
		    "PV EOI made NW: %lu refusals counted for %d deliveries",
		    denied_stat(&v) - before, IPI_ROUNDS);

	memattr_set(v.vm, gpa, SZ_4K, 0);
	TEST_ASSERT(!run(&v, OP_SELF_IPI, gpa, 0, 0, &with_bit), "self-IPI faulted");
	TEST_ASSERT(with_bit != IPI_LOST && with_bit > 0,
		    "PV EOI relaxed: %lu of %d deliveries with the PV EOI bit (~0: one lost)",
		    with_bit, IPI_ROUNDS);
	kvm_vm_free(v.vm);
	pr_info("PV EOI in use made NW: %d interrupts delivered without the bit, EOI at the "
		"APIC, not written, counted; relaxed: the bit again (%lu of %d): ok\n",
		IPI_ROUNDS, with_bit, IPI_ROUNDS);
}

static void test_async_pf(void)
{
	/* Delivered as an interrupt: its vector is set first. */
	test_registered_area("async PF", MSR_KVM_ASYNC_PF_EN,
			     KVM_ASYNC_PF_ENABLED | KVM_ASYNC_PF_DELIVERY_AS_INT,
			     MSR_KVM_ASYNC_PF_INT, APF_VECTOR);
}

/* The VMM's side of a missing page: wait for its fault, then fill it. */
struct uffd_server {
	int uffd;
	void *page;
	uint64_t val;
};

static void *uffd_serve(void *arg)
{
	struct uffd_server *u = arg;

	memattr_uffd_wait_fault(u->uffd, u->page);
	memattr_uffd_fill(u->uffd, u->page, u->val);
	return NULL;
}

/*
 * The guest reads @target while its page is missing (dropped, userfaultfd):
 * KVM cannot map it without waiting, so it starts an async PF, and the VMM
 * fills the page when KVM's worker faults on it.  Returns what the guest read.
 */
static uint64_t apf_touch_missing(struct memattr_vm *v, struct uffd_server *u, uint64_t target)
{
	uint64_t val = ~0ULL;
	pthread_t t;

	TEST_ASSERT(!madvise(u->page, SZ_4K, MADV_DONTNEED), "MADV_DONTNEED");
	TEST_ASSERT(!pthread_create(&t, NULL, uffd_serve, u), "pthread_create");
	TEST_ASSERT(!run(v, OP_APF_TOUCH, target, 0, 0, &val), "async PF access faulted");
	pthread_join(t, NULL);
	TEST_ASSERT_EQ(val, u->val);
	return val;
}

/*
 * The guest's counts after up to @ms 1-ms interrupt windows, stopping once
 * @ready "page ready" interrupts arrived.  "Page not present" is injected
 * before the guest can go on, "page ready" whenever KVM's worker is done,
 * which may be after the guest's read went through (the VMM's UFFDIO_COPY
 * maps the page before the worker's fault returns).
 */
static void apf_counts(struct memattr_vm *v, uint64_t ready, int ms, uint64_t *not_present,
		       uint64_t *got_ready)
{
	for (int i = 0;; i++) {
		sync_global_from_guest(v->vm, apf_ready);
		if (apf_ready >= ready || i == ms)
			break;
		usleep(1000);
		TEST_ASSERT(!run(v, OP_IRQ_WINDOW, 0, 0, 0, NULL), "interrupt window faulted");
	}
	sync_global_from_guest(v->vm, apf_not_present);
	sync_global_from_guest(v->vm, apf_np_token);
	sync_global_from_guest(v->vm, apf_ready_token);
	*not_present = apf_not_present;
	*got_ready = apf_ready;
}

/*
 * Async PF in use: the guest reads a missing page with async PF enabled.
 * Allowed: KVM writes "page not present" into the area and injects #PF with
 * the token, then "page ready" and the interrupt.  With the area made NW
 * after registration: KVM halts the vCPU instead (as when it cannot deliver
 * the #PF), writes nothing, counts the refusal, and the read completes once
 * the page is there.  Relaxed: both notifications again.
 */
static void test_async_pf_use(void)
{
	const uint64_t area = PAGE(2), target = PAGE(4);
	struct memattr_vm v = create();
	struct uffd_server u = { .page = hva(&v, target) };
	uint64_t np, ready, before;
	uint8_t copy[SZ_4K];

	vm_install_exception_handler(v.vm, PF_VECTOR, guest_apf_not_present);
	vm_install_exception_handler(v.vm, APF_VECTOR, guest_apf_ready);
	apf_gva = area;
	sync_global_to_guest(v.vm, apf_gva);
	u.uffd = memattr_uffd_park(u.page);

	memset(hva(&v, area), 0, SZ_4K);
	TEST_ASSERT_EQ(guest_wrmsr(&v, MSR_KVM_ASYNC_PF_INT, APF_VECTOR), 0);
	TEST_ASSERT_EQ(guest_wrmsr(&v, MSR_KVM_ASYNC_PF_EN, area | KVM_ASYNC_PF_ENABLED |
				   KVM_ASYNC_PF_SEND_ALWAYS | KVM_ASYNC_PF_DELIVERY_AS_INT), 0);
	u.val = 0x1111;
	apf_touch_missing(&v, &u, target);
	apf_counts(&v, 1, 10000, &np, &ready);
	TEST_ASSERT(np == 1 && ready == 1 && apf_np_token == apf_ready_token,
		    "async PF allowed: %lu not-present, %lu ready (tokens %#lx, %#lx), expected 1, 1",
		    np, ready, apf_np_token, apf_ready_token);

	/* KVM has the area cached: tighten under it. */
	memattr_set(v.vm, area, SZ_4K, NW);
	/* A pattern, but the ready slot free (token 0) as the guest leaves it. */
	memset(hva(&v, area), 0xaa, SZ_4K);
	((struct kvm_vcpu_pv_apf_data *)hva(&v, area))->token = 0;
	memcpy(copy, hva(&v, area), SZ_4K);
	before = denied_stat(&v);
	u.val = 0x2222;
	apf_touch_missing(&v, &u, target);
	/* Time for a "page ready" that should not come. */
	apf_counts(&v, 2, 200, &np, &ready);
	TEST_ASSERT(np == 1 && ready == 1,
		    "async PF made NW: %lu not-present, %lu ready, expected no new notification",
		    np, ready);
	expect_untouched(&v, area, copy, "async PF");
	TEST_ASSERT(denied_stat(&v) > before, "async PF made NW: no refusal counted");

	memattr_set(v.vm, area, SZ_4K, 0);
	memset(hva(&v, area), 0, SZ_4K);
	u.val = 0x3333;
	apf_touch_missing(&v, &u, target);
	apf_counts(&v, 2, 10000, &np, &ready);
	TEST_ASSERT(np == 2 && ready == 2 && apf_np_token == apf_ready_token,
		    "async PF relaxed: %lu not-present, %lu ready (tokens %#lx, %#lx), expected 2, 2",
		    np, ready, apf_np_token, apf_ready_token);
	close(u.uffd);
	kvm_vm_free(v.vm);
	pr_info("async PF in use made NW: no not-present #PF or ready interrupt, the read "
		"completes once the page is there, not written, counted; relaxed: both again: ok\n");
}

static void test_rep_movsb(void)
{
	const uint64_t src = PAGE(4), dst = PAGE(5);
	struct memattr_vm v = create();
	uint8_t copy[SZ_4K];
	uint64_t left = ~0ULL;

	/* Every boot of make check and make check-ept enables it. */
	TEST_ASSERT(is_forced_emulation_enabled, "rep movsb: needs kvm.force_emulation_prefix=1");
	memset(hva(&v, src), 0x11, SZ_4K);
	fill(&v, dst, 0xaa, copy);
	memattr_set(v.vm, dst, SZ_4K, NW);
	TEST_ASSERT_EQ(run(&v, OP_REP_MOVSB, src, dst + 8, dst, NULL), F_WRITE);
	expect_untouched(&v, dst, copy, "emulated rep movsb");
	memattr_set(v.vm, dst, SZ_4K, 0);
	TEST_ASSERT(!run(&v, OP_REP_MOVSB, src, dst + 8, 0, &left), "relaxed rep movsb faulted");
	TEST_ASSERT_EQ(left, 0);
	TEST_ASSERT(hva(&v, dst)[8] == 0x11 && hva(&v, dst)[23] == 0x11 &&
		    hva(&v, dst)[24] == 0xaa, "relaxed rep movsb did not copy 16 bytes");
	kvm_vm_free(v.vm);
	pr_info("emulated rep movsb into an NW page: memory fault, nothing written; "
		"relaxed: copies: ok\n");
}

/* Page-table walks ---------------------------------------------------- */

#define PTE_A	(1ULL << 5)
#define PTE_D	(1ULL << 6)

static void test_pt_walk(void)
{
	struct memattr_vm v = create();
	uint64_t *pte[3], pt, got = 0;
	const char *how[3] = { "A-bit update (NW)", "PTE read (NR)", "emulated PTE read (NR)" };
	const uint64_t op[3] = { OP_READ, OP_READ, OP_FEP_READ };

	TEST_ASSERT(is_forced_emulation_enabled, "pt-walk: needs kvm.force_emulation_prefix=1");
	/*
	 * Three pages never touched, their PTEs in one table page.  The first
	 * needs its Accessed bit set; the others have it, so their walks only
	 * read.  Where the CPU walks (NPT/EPT), the exit's flag is the one of
	 * the nested fault the CPU reports: QEMU's walker asks for write access
	 * to every page-table page on NPT, so a READ there may come as WRITE
	 * (NR comes with NW).  Where KVM walks it is exact.
	 */
	bool cpu_walks = memattr_mmu_tdp();
	int as_write = 0;

	for (int i = 0; i < 3; i++) {
		pte[i] = vm_get_page_table_entry(v.vm, PAGE(5 + i));
		*pte[i] &= ~(PTE_A | PTE_D);
		if (i)
			*pte[i] |= PTE_A;
		*(uint64_t *)hva(&v, PAGE(5 + i)) = 0x5a5a0000 + i;
	}
	pt = addr_hva2gpa(v.vm, pte[0]) & ~(SZ_4K - 1);
	TEST_ASSERT(pt == (addr_hva2gpa(v.vm, pte[2]) & ~(SZ_4K - 1)), "PTEs in two tables");

	for (int i = 0; i < 3; i++) {
		uint64_t attrs = i ? NR | NW | NX : NW, flag = i ? F_READ : F_WRITE;

		memattr_set(v.vm, pt, SZ_4K, attrs);
		got = run(&v, op[i], PAGE(5 + i), 0, pt, NULL);
		if (got == F_WRITE && flag == F_READ && op[i] == OP_READ && cpu_walks)
			as_write++;
		else
			TEST_ASSERT(got == flag, "%s: exit flags %#lx, expected %#lx", how[i], got,
				    flag);
		TEST_ASSERT(i || !(*pte[i] & PTE_A), "%s: the refused walk set Accessed", how[i]);
		memattr_set(v.vm, pt, SZ_4K, 0);
		TEST_ASSERT(!run(&v, op[i], PAGE(5 + i), 0, 0, &got), "%s: relaxed, faulted", how[i]);
		TEST_ASSERT_EQ(got, 0x5a5a0000 + i);
		TEST_ASSERT(*pte[i] & PTE_A, "%s: relaxed, the walk did not set Accessed", how[i]);
	}
	kvm_vm_free(v.vm);
	pr_info("page-table walk (%s): A-bit update in an NW table, PTE read from an NR table "
		"(guest and emulated access): memory fault at the table%s; relaxed: runs: ok\n",
		cpu_walks ? "the CPU's, nested paging" : "KVM's, shadow paging",
		as_write ? " (the CPU's PTE read reported as a write)" : "");
}

/* Nested SVM ------------------------------------------------------------ */

/* L2 only exits: VMRUN keeps L1's other registers, so L1's survive. */
void l2_vmmcall(void);
void l2_out_vmmcall(void);
asm(".pushsection .text\n"
    "l2_vmmcall:\n"
    "	vmmcall\n"
    "	ud2\n"
    /* An exit to the VMM while in L2 (L1 does not intercept I/O), then one to L1. */
    "l2_out_vmmcall:\n"
    "	outb %al, $" __stringify(L2_PORT) "\n"
    "	vmmcall\n"
    "	ud2\n"
    ".popsection\n");

static void l1_guest_code(struct svm_test_data *svm, uint64_t save_gpa)
{
	static unsigned long l2_stack[64];

	generic_svm_setup(svm, l2_vmmcall, &l2_stack[64]);
	GUEST_SYNC(1);
	/* Not the library's run_guest(): L1 must not write the VMCB itself. */
	asm volatile("vmrun %%rax" : : "a"(svm->vmcb_gpa) : "memory", "cc");
	GUEST_SYNC(svm->vmcb->control.exit_code);
	asm volatile("vmsave %%rax" : : "a"(save_gpa) : "memory");
	GUEST_SYNC(3);
	asm volatile("vmload %%rax" : : "a"(save_gpa) : "memory");
	GUEST_SYNC(4);
	svm->vmcb->save.rip = (uint64_t)l2_out_vmmcall;
	asm volatile("vmrun %%rax" : : "a"(svm->vmcb_gpa) : "memory", "cc");
	GUEST_SYNC(svm->vmcb->control.exit_code);
}

static void expect_sync(struct kvm_vcpu *vcpu, uint64_t want)
{
	uint64_t got = ~0ULL;

	TEST_ASSERT(!memattr_run_access(vcpu, 0, &got), "unexpected memory fault");
	TEST_ASSERT_EQ(got, want);
}

/* L2 runs until its OUT, which exits to the VMM (L1 does not intercept I/O). */
static void expect_l2_out(struct kvm_vcpu *vcpu)
{
	vcpu_run(vcpu);
	if (vcpu->run->exit_reason != KVM_EXIT_IO || vcpu->run->io.port != L2_PORT) {
		memattr_report_exit(vcpu, 0, 0, "expected L2's OUT");
		TEST_FAIL("expected L2's OUT to port %#x, got exit %s", L2_PORT,
			  exit_reason_str(vcpu->run->exit_reason));
	}
}

/* The instruction at RIP is VMRUN, VMSAVE or VMLOAD (0f 01 d8/db/da). */
static void expect_rip_on(struct kvm_vm *vm, struct kvm_vcpu *vcpu, uint8_t modrm)
{
	struct kvm_regs regs;
	uint8_t *insn;

	vcpu_regs_get(vcpu, &regs);
	insn = addr_gva2hva(vm, regs.rip);
	TEST_ASSERT(insn[0] == 0x0f && insn[1] == 0x01 && insn[2] == modrm,
		    "RIP %#llx is not on the refused instruction (0f 01 %02x)", regs.rip, modrm);
}

static void test_nested_svm(void)
{
	const uint64_t save = PAGE(6);
	struct memattr_vm v;
	struct kvm_vcpu *vcpu;
	struct svm_test_data *svm;
	vm_vaddr_t svm_gva;
	struct kvm_vm *vm;
	uint8_t copy[SZ_4K];
	uint64_t vmcb, before;

	TEST_ASSERT(kvm_cpu_has(X86_FEATURE_SVM), "nested-svm: no SVM in this guest (nested=0?)");
	v = memattr_vm_create(l1_guest_code, DATA_GPA, DATA_SLOT, DATA_PAGES);
	vm = v.vm;
	vcpu = v.vcpu;
	svm = vcpu_alloc_svm(vm, &svm_gva);
	vcpu_args_set(vcpu, 2, svm_gva, save);
	vmcb = svm->vmcb_gpa;
	expect_sync(vcpu, 1);

	/* VMRUN with VMCB12 in an NW page. */
	memcpy(copy, addr_gpa2hva(vm, vmcb), SZ_4K);
	memattr_set(vm, vmcb, SZ_4K, NW);
	TEST_ASSERT_EQ(memattr_run_access(vcpu, vmcb, NULL), F_WRITE);
	expect_rip_on(vm, vcpu, 0xd8);
	TEST_ASSERT(!memcmp(copy, addr_gpa2hva(vm, vmcb), SZ_4K), "refused VMRUN wrote its VMCB");
	memattr_set(vm, vmcb, SZ_4K, 0);
	expect_sync(vcpu, SVM_EXIT_VMMCALL);

	/* VMSAVE into an NW page. */
	memset(addr_gpa2hva(vm, save), 0xaa, SZ_4K);
	memcpy(copy, addr_gpa2hva(vm, save), SZ_4K);
	memattr_set(vm, save, SZ_4K, NW);
	TEST_ASSERT_EQ(memattr_run_access(vcpu, save, NULL), F_WRITE);
	expect_rip_on(vm, vcpu, 0xdb);
	TEST_ASSERT(!memcmp(copy, addr_gpa2hva(vm, save), SZ_4K), "refused VMSAVE wrote the page");
	memattr_set(vm, save, SZ_4K, 0);
	expect_sync(vcpu, 3);
	TEST_ASSERT(memcmp(copy, addr_gpa2hva(vm, save), SZ_4K), "VMSAVE wrote nothing");

	/* VMLOAD of what it saved, from an NR page. */
	memattr_set(vm, save, SZ_4K, NR | NW | NX);
	TEST_ASSERT_EQ(memattr_run_access(vcpu, save, NULL), F_READ);
	expect_rip_on(vm, vcpu, 0xda);
	memattr_set(vm, save, SZ_4K, 0);
	expect_sync(vcpu, 4);

	/*
	 * VMCB12 made NW while L2 runs: the #VMEXIT leaves its page alone (L1
	 * reads the marker put there), counted.
	 */
	expect_l2_out(vcpu);
	memattr_set(vm, vmcb, SZ_4K, NW);
	((struct vmcb *)addr_gpa2hva(vm, vmcb))->control.exit_code = EXIT_MARKER;
	memcpy(copy, addr_gpa2hva(vm, vmcb), SZ_4K);
	before = vm_get_stat(vm, "memattr_host_denied");
	expect_sync(vcpu, EXIT_MARKER);
	TEST_ASSERT(!memcmp(copy, addr_gpa2hva(vm, vmcb), SZ_4K), "#VMEXIT wrote the NW VMCB");
	TEST_ASSERT(vm_get_stat(vm, "memattr_host_denied") > before,
		    "#VMEXIT into the NW VMCB: no refusal counted");
	kvm_vm_free(vm);
	pr_info("nested SVM: VMRUN (VMCB in an NW page), VMSAVE (NW), VMLOAD (NR): memory fault "
		"on the instruction, nothing written; relaxed: they run; #VMEXIT into a VMCB made "
		"NW under L2: not written, counted: ok\n");
}

/* Nested VMX ------------------------------------------------------------ */

#define L2_TPR		5

/*
 * L2 exits to the VMM (L1 does not intercept I/O), then writes CR8: with
 * the TPR shadow on, the CPU stores it in the virtual-APIC page itself.
 */
void l2_vmx_code(void);
void l2_vmx_cr8(void);
void l2_out_vmcall(void);
void l2_vmcall(void);
asm(".pushsection .text\n"
    "l2_vmx_code:\n"
    "	outb %al, $" __stringify(L2_PORT) "\n"
    "l2_vmx_cr8:\n"
    "	mov $" __stringify(L2_TPR) ", %eax\n"
    "	mov %rax, %cr8\n"
    "	vmcall\n"
    "	ud2\n"
    /* An exit to the VMM while in L2, then one to L1. */
    "l2_out_vmcall:\n"
    "	outb %al, $" __stringify(L2_PORT) "\n"
    "l2_vmcall:\n"
    "	vmcall\n"
    "	ud2\n"
    ".popsection\n");

static void l1_vmx_code(struct vmx_pages *vmx, uint64_t vapic, uint64_t *operand)
{
	static unsigned long l2_stack[64];

	GUEST_ASSERT(prepare_for_vmx_operation(vmx));
	vmxoff();
	GUEST_SYNC(1);
	GUEST_ASSERT(!vmxon(vmx->vmxon_gpa));
	GUEST_ASSERT(load_vmcs(vmx));
	prepare_vmcs(vmx, l2_vmx_code, &l2_stack[64]);
	vmwrite(CPU_BASED_VM_EXEC_CONTROL, vmreadz(CPU_BASED_VM_EXEC_CONTROL) |
		CPU_BASED_TPR_SHADOW | CPU_BASED_USE_MSR_BITMAPS);
	vmwrite(VIRTUAL_APIC_PAGE_ADDR, vapic);
	vmwrite(TPR_THRESHOLD, 0);
	GUEST_SYNC(2);
	GUEST_ASSERT(!vmclear(vmx->vmcs_gpa));
	GUEST_SYNC(3);
	GUEST_ASSERT(!vmptrld(vmx->vmcs_gpa));
	GUEST_SYNC(4);
	/* A field no VMCS shadowing covers, so that KVM handles both. */
	asm volatile("vmread %[field], (%[op])"
		     : : [field] "r"((uint64_t)MSR_BITMAP), [op] "r"(operand) : "cc", "memory");
	GUEST_SYNC(5);
	asm volatile("vmwrite (%[op]), %[field]"
		     : : [field] "r"((uint64_t)MSR_BITMAP), [op] "r"(operand) : "cc", "memory");
	GUEST_SYNC(6);
	GUEST_ASSERT(!vmlaunch());
	GUEST_SYNC(vmreadz(VM_EXIT_REASON));
}

#define VMX_OP_PTR	0xc7	/* VMXON, VMCLEAR, VMPTRLD: 0f c7 /6 */
#define VMX_OP_LAUNCH	0x01	/* VMLAUNCH: 0f 01 c2 */
#define VMX_OP_READ	0x78	/* VMREAD: 0f 78 */
#define VMX_OP_WRITE	0x79	/* VMWRITE: 0f 79 */

/*
 * RIP is on the refused VMX instruction: its mandatory prefix (or none), an
 * optional REX prefix, then 0f and @op (with /6 or c2 where @op needs them).
 */
static void expect_rip_on_vmx(struct kvm_vm *vm, struct kvm_vcpu *vcpu, uint8_t prefix,
			      uint8_t op, const char *what)
{
	struct kvm_regs regs;
	uint8_t *insn;

	vcpu_regs_get(vcpu, &regs);
	insn = addr_gva2hva(vm, regs.rip);
	if (prefix) {
		TEST_ASSERT(*insn == prefix, "%s: RIP %#llx: byte %02x, expected prefix %02x",
			    what, regs.rip, *insn, prefix);
		insn++;
	}
	if ((*insn & 0xf0) == 0x40)
		insn++;
	TEST_ASSERT(insn[0] == 0x0f && insn[1] == op &&
		    (op != VMX_OP_PTR || ((insn[2] >> 3) & 7) == 6) &&
		    (op != VMX_OP_LAUNCH || insn[2] == 0xc2),
		    "%s: RIP %#llx is not on the refused instruction", what, regs.rip);
}

/*
 * @flag expected twice for @gpa, with RIP on the instruction each time; a
 * refused write leaves @gpa's page as it was.
 */
static void expect_vmx_refused(struct kvm_vm *vm, struct kvm_vcpu *vcpu, uint64_t gpa,
			       uint64_t attrs, uint64_t flag, uint8_t prefix, uint8_t op,
			       const char *what)
{
	uint8_t copy[SZ_4K];

	memcpy(copy, addr_gpa2hva(vm, gpa), SZ_4K);
	memattr_set(vm, gpa, SZ_4K, attrs);
	for (int i = 0; i < 2; i++) {
		TEST_ASSERT_EQ(memattr_run_access(vcpu, gpa, NULL), flag);
		expect_rip_on_vmx(vm, vcpu, prefix, op, what);
	}
	TEST_ASSERT(flag != F_WRITE || !memcmp(copy, addr_gpa2hva(vm, gpa), SZ_4K),
		    "%s: refused, wrote the page", what);
}

/* A VM whose L1 runs @l1_code with VMX pages at *@vmx_gva (nested VMX required). */
static struct memattr_vm vmx_vm_create(void *l1_code, const char *part, struct vmx_pages **vmx,
				       vm_vaddr_t *vmx_gva)
{
	struct memattr_vm v;

	TEST_ASSERT(kvm_cpu_has(X86_FEATURE_VMX), "%s: no VMX in this guest (nested=0?)", part);
	v = memattr_vm_create(l1_code, DATA_GPA, DATA_SLOT, DATA_PAGES);
	*vmx = vcpu_alloc_vmx(v.vm, vmx_gva);
	return v;
}

static void test_nested_vmx(void)
{
	const uint64_t vapic = PAGE(6), operand = PAGE(7);
	struct vmx_pages *vmx;
	struct kvm_vcpu *vcpu;
	struct memattr_vm v;
	struct kvm_regs regs;
	vm_vaddr_t vmx_gva;
	struct kvm_vm *vm;
	uint8_t copy[SZ_4K];

	v = vmx_vm_create(l1_vmx_code, "nested-vmx", &vmx, &vmx_gva);
	vm = v.vm;
	vcpu = v.vcpu;
	vcpu_args_set(vcpu, 3, vmx_gva, vapic, operand);
	memset(addr_gpa2hva(vm, vapic), 0, SZ_4K);
	expect_sync(vcpu, 1);

	/* VMXON with its region NR. */
	expect_vmx_refused(vm, vcpu, vmx->vmxon_gpa, NR | NW | NX, F_READ, 0xf3, VMX_OP_PTR,
			   "VMXON");
	memattr_set(vm, vmx->vmxon_gpa, SZ_4K, 0);
	expect_sync(vcpu, 2);

	/* VMCLEAR of the VMCS in an NW page, then VMPTRLD of it NR. */
	expect_vmx_refused(vm, vcpu, vmx->vmcs_gpa, NW, F_WRITE, 0x66, VMX_OP_PTR, "VMCLEAR");
	memattr_set(vm, vmx->vmcs_gpa, SZ_4K, 0);
	expect_sync(vcpu, 3);
	expect_vmx_refused(vm, vcpu, vmx->vmcs_gpa, NR | NW | NX, F_READ, 0, VMX_OP_PTR,
			   "VMPTRLD");
	memattr_set(vm, vmx->vmcs_gpa, SZ_4K, 0);
	expect_sync(vcpu, 4);

	/* VMREAD into an NW page, then VMWRITE from an NR page. */
	expect_vmx_refused(vm, vcpu, operand, NW, F_WRITE, 0, VMX_OP_READ, "VMREAD");
	memattr_set(vm, operand, SZ_4K, 0);
	expect_sync(vcpu, 5);
	TEST_ASSERT_EQ(*(uint64_t *)addr_gpa2hva(vm, operand), vmx->msr_gpa);
	expect_vmx_refused(vm, vcpu, operand, NR | NW | NX, F_READ, 0, VMX_OP_WRITE, "VMWRITE");
	memattr_set(vm, operand, SZ_4K, 0);
	expect_sync(vcpu, 6);

	/* VMLAUNCH with the virtual-APIC page NW, then with the MSR bitmap NR. */
	expect_vmx_refused(vm, vcpu, vapic, NW, F_WRITE, 0, VMX_OP_LAUNCH,
			   "VMLAUNCH, virtual-APIC page");
	memattr_set(vm, vapic, SZ_4K, 0);
	expect_vmx_refused(vm, vcpu, vmx->msr_gpa, NR | NW | NX, F_READ, 0, VMX_OP_LAUNCH,
			   "VMLAUNCH, MSR bitmap");
	memattr_set(vm, vmx->msr_gpa, SZ_4K, 0);

	/* L2 runs: its OUT exits to the VMM. */
	expect_l2_out(vcpu);

	/*
	 * The virtual-APIC page made NW while L2 runs with it mapped: L2 does
	 * not run again (its CR8 write would go to the page) until relaxed.
	 */
	memcpy(copy, addr_gpa2hva(vm, vapic), SZ_4K);
	memattr_set(vm, vapic, SZ_4K, NW);
	for (int i = 0; i < 2; i++) {
		TEST_ASSERT_EQ(memattr_run_access(vcpu, vapic, NULL), F_WRITE);
		vcpu_regs_get(vcpu, &regs);
		TEST_ASSERT(regs.rip == (uint64_t)l2_vmx_cr8,
			    "virtual-APIC page made NW under L2: RIP %#llx, expected %p (L2, after "
			    "its OUT)", regs.rip, l2_vmx_cr8);
	}
	TEST_ASSERT(!memcmp(copy, addr_gpa2hva(vm, vapic), SZ_4K),
		    "virtual-APIC page made NW under L2: written");
	memattr_set(vm, vapic, SZ_4K, 0);
	expect_sync(vcpu, EXIT_REASON_VMCALL);
	TEST_ASSERT(((uint8_t *)addr_gpa2hva(vm, vapic))[0x80] == L2_TPR << 4,
		    "relaxed: L2's CR8 write did not reach the virtual-APIC page (VTPR %#x)",
		    ((uint8_t *)addr_gpa2hva(vm, vapic))[0x80]);
	kvm_vm_free(vm);
	pr_info("nested VMX: VMXON (region NR), VMCLEAR (VMCS NW), VMPTRLD (VMCS NR), VMREAD "
		"(operand NW), VMWRITE (operand NR), VMLAUNCH (virtual-APIC page NW, MSR bitmap "
		"NR): memory fault on the instruction, nothing written; virtual-APIC page made NW "
		"under L2: memory fault, L2 held; relaxed: all run, L2's CR8 reaches the page: ok\n");
}

/*
 * Nested EPT: KVM shadows L1's EPT for L2 and walks L1's EPT tables itself,
 * as it walks a guest's page tables on shadow paging.
 */
static void l1_ept_code(struct vmx_pages *vmx)
{
	static unsigned long l2_stack[64];

	GUEST_ASSERT(prepare_for_vmx_operation(vmx));
	GUEST_ASSERT(load_vmcs(vmx));
	prepare_vmcs(vmx, l2_vmcall, &l2_stack[64]);
	GUEST_SYNC(1);
	GUEST_ASSERT(!vmlaunch());
	GUEST_SYNC(vmreadz(VM_EXIT_REASON));
}

static bool host_intel_ept(void)
{
	return host_cpu_is_intel && kvm_cpu_has_ept();
}

static void test_nested_ept(void)
{
	struct vmx_pages *vmx;
	struct kvm_vcpu *vcpu;
	struct memattr_vm v;
	struct kvm_regs regs;
	vm_vaddr_t vmx_gva;
	struct kvm_vm *vm;

	v = vmx_vm_create(l1_ept_code, "nested-ept", &vmx, &vmx_gva);
	vm = v.vm;
	vcpu = v.vcpu;
	prepare_eptp(vmx, vm, 0);
	nested_map_memslot(vmx, vm, 0);
	vcpu_args_set(vcpu, 1, vmx_gva);
	expect_sync(vcpu, 1);

	/* L1's EPT PML4 NR: L2's first fetch needs KVM to read it. */
	memattr_set(vm, vmx->eptp_gpa, SZ_4K, NR | NW | NX);
	for (int i = 0; i < 2; i++) {
		TEST_ASSERT_EQ(memattr_run_access(vcpu, vmx->eptp_gpa, NULL), F_READ);
		vcpu_regs_get(vcpu, &regs);
		TEST_ASSERT(regs.rip == (uint64_t)l2_vmcall,
			    "EPT table NR: RIP %#llx, expected %p (L2's first instruction)",
			    regs.rip, l2_vmcall);
	}
	memattr_set(vm, vmx->eptp_gpa, SZ_4K, 0);
	expect_sync(vcpu, EXIT_REASON_VMCALL);
	kvm_vm_free(vm);
	pr_info("nested EPT: L1's EPT table NR: L2's first access exits with the memory fault at "
		"the table, in L2; relaxed: L2 runs: ok\n");
}

/*
 * Enlightened VMCS (Hyper-V).  The library's VMLAUNCH writes the host state
 * into the eVMCS right before the instruction, which an L1 cannot do in a
 * page the VMM made NR|NW; this L1 writes it first, with a host stack and
 * RIP of its own, so the VMLAUNCH alone meets the VMM's protection.
 */
void l1_evmcs_exit(void);
void l1_evmcs_after_exit(void);
asm(".pushsection .text\n"
    "l1_evmcs_exit:\n"
    "	call l1_evmcs_after_exit\n"
    "	ud2\n"
    ".popsection\n");

void l1_evmcs_after_exit(void)
{
	GUEST_SYNC(vmreadz(VM_EXIT_REASON));
	GUEST_FAIL("resumed after the last sync");
}

static void l1_evmcs_code(struct vmx_pages *vmx, struct hyperv_test_pages *hv)
{
	static unsigned long l2_stack[64], exit_stack[256] __aligned(16);

	enable_vp_assist(hv->vp_assist_gpa, hv->vp_assist);
	evmcs_enable();
	GUEST_ASSERT(prepare_for_vmx_operation(vmx));
	GUEST_ASSERT(load_evmcs(hv));
	prepare_vmcs(vmx, l2_out_vmcall, &l2_stack[64]);
	current_evmcs->host_rsp = (uint64_t)&exit_stack[256];
	current_evmcs->host_rip = (uint64_t)l1_evmcs_exit;
	current_evmcs->hv_clean_fields = 0;
	GUEST_SYNC(1);
	asm volatile("vmlaunch; ud2" : : : "memory");
}

static void test_nested_evmcs(void)
{
	struct hyperv_test_pages *hv;
	vm_vaddr_t vmx_gva, hv_gva;
	struct vmx_pages *vmx;
	struct hv_enlightened_vmcs *e;
	struct kvm_vcpu *vcpu;
	uint64_t evmcs, before;
	struct memattr_vm v;
	struct kvm_vm *vm;
	uint8_t copy[SZ_4K];

	TEST_ASSERT(kvm_has_cap(KVM_CAP_HYPERV_ENLIGHTENED_VMCS),
		    "nested-evmcs: KVM without the enlightened VMCS");
	v = vmx_vm_create(l1_evmcs_code, "nested-evmcs", &vmx, &vmx_gva);
	vm = v.vm;
	vcpu = v.vcpu;
	vcpu_set_hv_cpuid(vcpu);
	vcpu_enable_evmcs(vcpu);
	hv = vcpu_alloc_hyperv_test_pages(vm, &hv_gva);
	vcpu_args_set(vcpu, 2, vmx_gva, hv_gva);
	evmcs = hv->enlightened_vmcs_gpa;
	e = addr_gpa2hva(vm, evmcs);
	expect_sync(vcpu, 1);

	/* VMLAUNCH with the eVMCS NR (KVM would read it), then NW (the exit writes it). */
	expect_vmx_refused(vm, vcpu, evmcs, NR | NW | NX, F_READ, 0, VMX_OP_LAUNCH,
			   "VMLAUNCH, enlightened VMCS NR");
	expect_vmx_refused(vm, vcpu, evmcs, NW, F_WRITE, 0, VMX_OP_LAUNCH,
			   "VMLAUNCH, enlightened VMCS NW");
	memattr_set(vm, evmcs, SZ_4K, 0);

	/* L2 runs: its OUT exits to the VMM. */
	expect_l2_out(vcpu);

	/* The eVMCS made NW while L2 runs: the exit leaves it alone (L1 reads the marker), counted. */
	memattr_set(vm, evmcs, SZ_4K, NW);
	e->vm_exit_reason = EXIT_MARKER;
	memcpy(copy, e, SZ_4K);
	before = vm_get_stat(vm, "memattr_host_denied");
	expect_sync(vcpu, EXIT_MARKER);
	TEST_ASSERT(!memcmp(copy, e, SZ_4K), "exit to L1 wrote the NW enlightened VMCS");
	TEST_ASSERT(vm_get_stat(vm, "memattr_host_denied") > before,
		    "exit into the NW enlightened VMCS: no refusal counted");
	kvm_vm_free(vm);
	pr_info("nested VMX, enlightened VMCS: VMLAUNCH with it NR, NW: memory fault on the "
		"instruction, nothing written; relaxed: L2 runs; exit to L1 with it made NW under "
		"L2: not written, counted: ok\n");
}

/* SMM ------------------------------------------------------------------- */

/* Runs in real-address mode: report to the VMM, then return. */
static const uint8_t smi_handler[] = {
	0xb0, SMM_STAGE,	/* mov $SMM_STAGE, %al */
	0xe4, SMM_PORT,		/* in $SMM_PORT, %al */
	0x0f, 0xaa,		/* rsm */
};

static void smram_setup(struct kvm_vm *vm, struct kvm_vcpu *vcpu)
{
	TEST_ASSERT(kvm_has_cap(KVM_CAP_X86_SMM), "smm: KVM without SMM");
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, SMRAM_GPA, SMRAM_SLOT,
				    SMRAM_PAGES, 0);
	TEST_ASSERT(vm_phy_pages_alloc(vm, SMRAM_PAGES, SMRAM_GPA, SMRAM_SLOT) == SMRAM_GPA,
		    "SMRAM not at %#llx", SMRAM_GPA);
	memset(addr_gpa2hva(vm, SMRAM_GPA), 0, SMRAM_PAGES * SZ_4K);
	memcpy(addr_gpa2hva(vm, SMRAM_GPA) + 0x8000, smi_handler, sizeof(smi_handler));
	vcpu_set_msr(vcpu, MSR_IA32_SMBASE, SMRAM_GPA);
}

static void expect_smi_pending(struct kvm_vcpu *vcpu, bool pending)
{
	struct kvm_vcpu_events ev;

	vcpu_events_get(vcpu, &ev);
	TEST_ASSERT(ev.flags & KVM_VCPUEVENT_VALID_SMM, "no SMM state in KVM_GET_VCPU_EVENTS");
	TEST_ASSERT(ev.smi.pending == pending && !ev.smi.smm,
		    "SMI pending %u in SMM %u, expected pending %u outside SMM", ev.smi.pending,
		    ev.smi.smm, pending);
}

/* The SMI is taken: the handler reports from SMM; the next run does its RSM. */
static void expect_smi_handler(struct kvm_vcpu *vcpu)
{
	struct kvm_regs regs;

	vcpu_run(vcpu);
	if (vcpu->run->exit_reason != KVM_EXIT_IO || vcpu->run->io.port != SMM_PORT) {
		memattr_report_exit(vcpu, 0, 0, "expected the SMI handler's IN");
		TEST_FAIL("expected the SMI handler's IN from port %#x, got exit %s", SMM_PORT,
			  exit_reason_str(vcpu->run->exit_reason));
	}
	vcpu_regs_get(vcpu, &regs);
	TEST_ASSERT_EQ(regs.rax & 0xff, SMM_STAGE);
}

/*
 * In the SMI handler, at its IN: with @gpa's page NR (no access), the next
 * KVM_RUN completes the IN and the RSM, which reads that page, exits with a
 * memory fault (READ) at it, again on the next KVM_RUN, and does nothing:
 * the vCPU stays in SMM with RIP on the RSM (the handler's last two bytes).
 */
static void expect_rsm_refused(struct kvm_vm *vm, struct kvm_vcpu *vcpu, uint64_t gpa,
			       const char *what)
{
	const uint64_t page = gpa & ~(SZ_4K - 1);
	const uint64_t rsm_rip = 0x8000 + sizeof(smi_handler) - 2;
	struct kvm_vcpu_events ev;
	struct kvm_regs regs;

	memattr_set(vm, page, SZ_4K, NR | NW | NX);
	for (int i = 0; i < 2; i++) {
		TEST_ASSERT_EQ(memattr_run_access(vcpu, gpa, NULL), F_READ);
		vcpu_events_get(vcpu, &ev);
		TEST_ASSERT(ev.smi.smm, "RSM refused by NR on %s left SMM", what);
		vcpu_regs_get(vcpu, &regs);
		TEST_ASSERT(regs.rip == rsm_rip,
			    "RSM refused by NR on %s: RIP %#llx, expected %#lx (the RSM)", what,
			    regs.rip, rsm_rip);
	}
	memattr_set(vm, page, SZ_4K, 0);
}

/*
 * The SMI refused while @gpa's page is NW: memory fault (WRITE) at it, again
 * on the next KVM_RUN, the page keeps its bytes and the SMI stays pending.
 */
static void expect_smi_refused(struct kvm_vm *vm, struct kvm_vcpu *vcpu, uint64_t gpa,
			       const char *what)
{
	uint64_t page = gpa & ~(SZ_4K - 1);
	uint8_t copy[SZ_4K];

	memcpy(copy, addr_gpa2hva(vm, page), SZ_4K);
	memattr_set(vm, page, SZ_4K, NW);
	for (int i = 0; i < 2; i++) {
		TEST_ASSERT_EQ(memattr_run_access(vcpu, gpa, NULL), F_WRITE);
		expect_smi_pending(vcpu, true);
	}
	TEST_ASSERT(!memcmp(copy, addr_gpa2hva(vm, page), SZ_4K), "refused SMI wrote %s", what);
	memattr_set(vm, page, SZ_4K, 0);
}

static void test_smm(void)
{
	struct memattr_vm v = create();
	uint8_t copy[SZ_4K];

	smram_setup(v.vm, v.vcpu);
	memcpy(copy, addr_gpa2hva(v.vm, SMRAM_SAVE & ~(SZ_4K - 1)), SZ_4K);
	vcpu_ioctl(v.vcpu, KVM_SMI, NULL);
	expect_smi_refused(v.vm, v.vcpu, SMRAM_SAVE, "the SMRAM state-save area");

	expect_smi_handler(v.vcpu);
	TEST_ASSERT(memcmp(copy, addr_gpa2hva(v.vm, SMRAM_SAVE & ~(SZ_4K - 1)), SZ_4K),
		    "SMM entry wrote no state-save area");
	expect_rsm_refused(v.vm, v.vcpu, SMRAM_SAVE, "the SMRAM state-save area");
	TEST_ASSERT(!run(&v, OP_NOP, 0, 0, 0, NULL), "after RSM: faulted");
	expect_smi_pending(v.vcpu, false);
	kvm_vm_free(v.vm);
	pr_info("SMM entry with the state-save area NW: memory fault, nothing written, SMI "
		"pending; relaxed: SMI taken; RSM with it NR: memory fault, still in SMM; relaxed: "
		"RSM returns: ok\n");
}

static void l1_smm_code(struct svm_test_data *svm)
{
	static unsigned long l2_stack[64];

	generic_svm_setup(svm, l2_out_vmmcall, &l2_stack[64]);
	asm volatile("vmrun %%rax" : : "a"(svm->vmcb_gpa) : "memory", "cc");
	GUEST_SYNC(svm->vmcb->control.exit_code);
}

static void test_nested_smm(void)
{
	struct memattr_vm v;
	struct svm_test_data *svm;
	vm_vaddr_t svm_gva;
	uint8_t copy[SZ_4K];

	TEST_ASSERT(kvm_cpu_has(X86_FEATURE_SVM), "nested-smm: no SVM in this guest (nested=0?)");
	v = memattr_vm_create(l1_smm_code, DATA_GPA, DATA_SLOT, DATA_PAGES);
	smram_setup(v.vm, v.vcpu);
	svm = vcpu_alloc_svm(v.vm, &svm_gva);
	vcpu_args_set(v.vcpu, 1, svm_gva);

	/* L2 exits to the VMM with its OUT; the SMI arrives in L2. */
	expect_l2_out(v.vcpu);
	memcpy(copy, addr_gpa2hva(v.vm, svm->save_area_gpa), SZ_4K);
	vcpu_ioctl(v.vcpu, KVM_SMI, NULL);
	expect_smi_refused(v.vm, v.vcpu, svm->save_area_gpa, "the HSAVE area");
	expect_smi_refused(v.vm, v.vcpu, svm->vmcb_gpa, "VMCB12");
	expect_smi_refused(v.vm, v.vcpu, SMRAM_SAVE, "the SMRAM state-save area");

	expect_smi_handler(v.vcpu);
	TEST_ASSERT(memcmp(copy, addr_gpa2hva(v.vm, svm->save_area_gpa), SZ_4K),
		    "SMM entry from L2 wrote no HSAVE area");
	expect_rsm_refused(v.vm, v.vcpu, SMRAM_SAVE, "the SMRAM state-save area");
	expect_rsm_refused(v.vm, v.vcpu, svm->vmcb_gpa, "VMCB12");
	expect_rsm_refused(v.vm, v.vcpu, svm->save_area_gpa, "the HSAVE area");
	/* RSM re-enters L2, whose VMMCALL exits to L1. */
	expect_sync(v.vcpu, SVM_EXIT_VMMCALL);
	expect_smi_pending(v.vcpu, false);
	kvm_vm_free(v.vm);
	pr_info("SMM entry from L2 with the HSAVE area, VMCB12 or the state-save area NW: memory "
		"fault, nothing written, SMI pending; relaxed: SMI taken; RSM with the state-save "
		"area, VMCB12 or the HSAVE area NR: memory fault, still in SMM; relaxed: RSM "
		"re-enters L2: ok\n");
}

static const struct memattr_part parts[] = {
	{ "steal-time", test_steal_time },
	{ "kvmclock", test_kvmclock },
	{ "pv-eoi", test_pv_eoi },
	{ "pv-eoi-use", test_pv_eoi_use },
	{ "async-pf", test_async_pf },
	{ "async-pf-use", test_async_pf_use },
	{ "rep-movsb", test_rep_movsb },
	{ "nested-svm", test_nested_svm, memattr_host_amd },
	{ "nested-vmx", test_nested_vmx, memattr_host_intel },
	{ "nested-evmcs", test_nested_evmcs, memattr_host_intel },
	{ "nested-ept", test_nested_ept, host_intel_ept },
	{ "pt-walk", test_pt_walk },
	{ "smm", test_smm },
	{ "nested-smm", test_nested_smm, memattr_host_amd },
};

/* memattr_host_access_test [PART...]: all parts, or only those named. */
int main(int argc, char *argv[])
{
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_MEMORY_ATTRIBUTES));
	TEST_REQUIRE(kvm_check_cap(KVM_CAP_MEMORY_ATTRIBUTES) & NW);
	memattr_run_parts(parts, ARRAY_SIZE(parts), argc, argv);
	return 0;
}
