// SPDX-License-Identifier: GPL-2.0-only
/*
 * NR/NW/NX memory attributes enforced by the MMU (kvm_memattr): a denied
 * guest read, write or fetch exits with KVM_EXIT_MEMORY_FAULT carrying that
 * one access, the page's gpa and size 4096; relaxing the attributes lets the
 * retried access complete.  Also: tightening mapped pages, protections
 * surviving memslot re-creation, dirty logging, huge pages, pre-faulting,
 * software-protected VMs, and a vCPU racing a SET.  Runs on NPT and on
 * shadow paging (kvm_amd.npt=0).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/bitmap.h>
#include <linux/kvm.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "memattr_util.h"

#define NR	KVM_MEMORY_ATTRIBUTE_NR
#define NW	KVM_MEMORY_ATTRIBUTE_NW
#define NX	KVM_MEMORY_ATTRIBUTE_NX
#define PRIV	KVM_MEMORY_ATTRIBUTE_PRIVATE
#define F_READ	KVM_MEMORY_EXIT_FLAG_READ
#define F_WRITE	KVM_MEMORY_EXIT_FLAG_WRITE
#define F_EXEC	KVM_MEMORY_EXIT_FLAG_EXEC

#define DATA_GPA	0xc0000000ULL	/* identity-mapped in the guest */
#define DATA_SLOT	10
#define DATA_PAGES	1024		/* 4 MiB: two 2 MiB huge pages */
#define SZ_4K		4096ULL
#define PAGE(n)		(DATA_GPA + (n) * SZ_4K)

enum { OP_EXEC = OP_LOCAL, OP_SPIN_WRITE };

static uint64_t cmd_op, cmd_gva, cmd_val;

static void guest_code(void)
{
	for (;;) {
		uint64_t gva = READ_ONCE(cmd_gva), op = READ_ONCE(cmd_op), r;

		switch (op) {
		case OP_EXEC:
			r = ((uint64_t (*)(void))gva)();
			break;
		case OP_SPIN_WRITE:
			for (;;)
				(*(volatile uint64_t *)gva)++;
		default:
			r = memattr_guest_access(op, gva, READ_ONCE(cmd_val));
		}
		GUEST_SYNC(r);
	}
}

struct vmx {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
};

static struct vmx create(unsigned long type, enum vm_mem_backing_src_type src,
			 uint32_t slot_flags)
{
	const struct vm_shape shape = { .mode = VM_MODE_DEFAULT, .type = type };
	struct vmx v;

	v.vm = vm_create_shape_with_one_vcpu(shape, &v.vcpu, guest_code);
	vm_userspace_mem_region_add(v.vm, src, DATA_GPA, DATA_SLOT, DATA_PAGES, slot_flags);
	virt_map(v.vm, DATA_GPA, DATA_GPA, DATA_PAGES);
	return v;
}

static uint64_t *hva(struct vmx *v, uint64_t gpa)
{
	return addr_gpa2hva(v->vm, gpa);
}

/*
 * Runs until the guest finishes its operation (returns 0, result in *out) or
 * an access is denied (returns the exit flags, after checking gpa and size).
 */
static uint64_t resume(struct vmx *v, uint64_t gpa, uint64_t *out)
{
	return memattr_run_access(v->vcpu, gpa, out);
}

static uint64_t op(struct vmx *v, uint64_t o, uint64_t gpa, uint64_t val, uint64_t *out)
{
	cmd_op = o;
	cmd_gva = gpa;
	cmd_val = val;
	sync_global_to_guest(v->vm, cmd_op);
	sync_global_to_guest(v->vm, cmd_gva);
	sync_global_to_guest(v->vm, cmd_val);
	return resume(v, gpa, out);
}

#define EXPECT_DENIED(v, o, gpa, val, flag) do {				\
	uint64_t __f = op(v, o, gpa, val, NULL);				\
	TEST_ASSERT(__f == (flag), "%s at %#lx: exit flags %#lx, expected %#lx",	\
		    #o, (uint64_t)(gpa), __f, (uint64_t)(flag));		\
} while (0)

#define EXPECT_ALLOWED(v, o, gpa, val, out) do {				\
	uint64_t __f = op(v, o, gpa, val, out);				\
	TEST_ASSERT(!__f, "%s at %#lx: denied with flags %#lx, expected success",	\
		    #o, (uint64_t)(gpa), __f);					\
} while (0)

/* Relax and re-enter: the guest retries the denied access, which completes. */
static void relax_and_retry(struct vmx *v, uint64_t gpa, uint64_t attrs, uint64_t *out)
{
	uint64_t f;

	memattr_set(v->vm, gpa & ~(SZ_4K - 1), SZ_4K, attrs);
	f = resume(v, gpa, out);
	TEST_ASSERT(!f, "retry at %#lx after relaxing to %#lx: denied with %#lx", gpa, attrs, f);
}

/* mov $0x1234, %rax; ret */
static const uint8_t code[] = { 0x48, 0xc7, 0xc0, 0x34, 0x12, 0x00, 0x00, 0xc3 };

static void test_basic(unsigned long type)
{
	struct vmx v = create(type, VM_MEM_SRC_ANONYMOUS, 0);
	uint64_t r;

	*hva(&v, PAGE(1)) = 0xaa;
	memcpy(hva(&v, PAGE(3)), code, sizeof(code));

	/*
	 * Tightening a page mapped writable, with the VM's first protecting
	 * SET: until then the VM runs without the MMU's checks.
	 */
	EXPECT_ALLOWED(&v, OP_WRITE, PAGE(4), 1, NULL);
	memattr_set(v.vm, PAGE(4), SZ_4K, NW);
	EXPECT_DENIED(&v, OP_WRITE, PAGE(4), 2, F_WRITE);
	TEST_ASSERT_EQ(*hva(&v, PAGE(4)), 1);
	relax_and_retry(&v, PAGE(4), 0, NULL);
	TEST_ASSERT_EQ(*hva(&v, PAGE(4)), 2);

	/* NW: reads fine, writes denied until relaxed. */
	memattr_set(v.vm, PAGE(1), SZ_4K, NW);
	EXPECT_ALLOWED(&v, OP_READ, PAGE(1), 0, &r);
	TEST_ASSERT_EQ(r, 0xaa);
	EXPECT_DENIED(&v, OP_WRITE, PAGE(1) + 8, 0x55, F_WRITE);
	TEST_ASSERT_EQ(hva(&v, PAGE(1))[1], 0);
	relax_and_retry(&v, PAGE(1) + 8, 0, NULL);
	TEST_ASSERT_EQ(hva(&v, PAGE(1))[1], 0x55);

	/* NR|NW|NX: each access denied by its own bit. */
	memattr_set(v.vm, PAGE(2), SZ_4K, NR | NW | NX);
	EXPECT_DENIED(&v, OP_READ, PAGE(2), 0, F_READ);
	relax_and_retry(&v, PAGE(2), NW | NX, NULL);
	memattr_set(v.vm, PAGE(2), SZ_4K, NR | NW | NX);
	EXPECT_DENIED(&v, OP_WRITE, PAGE(2), 1, F_WRITE);
	relax_and_retry(&v, PAGE(2), 0, NULL);

	/* NX: fetches denied, data accesses fine. */
	memattr_set(v.vm, PAGE(3), SZ_4K, NX);
	EXPECT_ALLOWED(&v, OP_READ, PAGE(3), 0, &r);
	EXPECT_DENIED(&v, OP_EXEC, PAGE(3), 0, F_EXEC);
	relax_and_retry(&v, PAGE(3), 0, &r);
	TEST_ASSERT_EQ(r, 0x1234);
	/* Executed and so mapped executable: tightening takes effect. */
	memattr_set(v.vm, PAGE(3), SZ_4K, NX | NW);
	EXPECT_DENIED(&v, OP_EXEC, PAGE(3), 0, F_EXEC);
	relax_and_retry(&v, PAGE(3), NW, &r);
	TEST_ASSERT_EQ(r, 0x1234);

	/* Neighbours of protected pages are untouched. */
	memattr_set(v.vm, PAGE(6), SZ_4K, NR | NW | NX);
	EXPECT_ALLOWED(&v, OP_WRITE, PAGE(5), 5, NULL);
	EXPECT_ALLOWED(&v, OP_WRITE, PAGE(7), 7, NULL);
	memattr_set(v.vm, PAGE(6), SZ_4K, 0);

	kvm_vm_free(v.vm);
	pr_info("basic NR/NW/NX (VM type %lu): ok\n", type);
}

static void test_memslot_recreate(void)
{
	struct vmx v = create(KVM_X86_DEFAULT_VM, VM_MEM_SRC_ANONYMOUS, 0);
	struct kvm_memory_attributes a = { .address = PAGE(9), .size = SZ_4K };

	memattr_set(v.vm, PAGE(9), SZ_4K, NW);
	vm_mem_region_delete(v.vm, DATA_SLOT);
	vm_ioctl(v.vm, KVM_GET_MEMORY_ATTRIBUTES, &a);
	TEST_ASSERT_EQ(a.attributes, NW);
	vm_userspace_mem_region_add(v.vm, VM_MEM_SRC_ANONYMOUS, DATA_GPA, DATA_SLOT,
				    DATA_PAGES, 0);
	EXPECT_DENIED(&v, OP_WRITE, PAGE(9), 1, F_WRITE);
	relax_and_retry(&v, PAGE(9), 0, NULL);
	kvm_vm_free(v.vm);
	pr_info("protections survive memslot re-creation: ok\n");
}

static void test_dirty_log(void)
{
	struct vmx v = create(KVM_X86_DEFAULT_VM, VM_MEM_SRC_ANONYMOUS, KVM_MEM_LOG_DIRTY_PAGES);
	unsigned long *bmap = bitmap_zalloc(DATA_PAGES);
	int i;

	memattr_set(v.vm, PAGE(11), SZ_4K, NW);
	for (i = 0; i < 4; i++) {
		kvm_vm_get_dirty_log(v.vm, DATA_SLOT, bmap);
		EXPECT_ALLOWED(&v, OP_WRITE, PAGE(10), i, NULL);
		EXPECT_ALLOWED(&v, OP_WRITE, PAGE(12), i, NULL);
		EXPECT_DENIED(&v, OP_WRITE, PAGE(11), i, F_WRITE);
		/* Let the denied write go so the vCPU can take the next op... */
		relax_and_retry(&v, PAGE(11), 0, NULL);
		/* ...and protect again for the next write-protect cycle. */
		memattr_set(v.vm, PAGE(11), SZ_4K, NW);
		kvm_vm_get_dirty_log(v.vm, DATA_SLOT, bmap);
		TEST_ASSERT(test_bit(10, bmap) && test_bit(12, bmap),
			    "cycle %d: writes to pages 10 and 12 not logged", i);
	}
	free(bmap);
	kvm_vm_free(v.vm);
	pr_info("dirty-log write-protect cycles: ok\n");
}

static void test_hugepage(void)
{
	struct vmx v = create(KVM_X86_DEFAULT_VM, VM_MEM_SRC_ANONYMOUS_THP, 0);
	uint64_t p;

	/* Touch the first 2 MiB so that a huge mapping can exist. */
	for (p = 0; p < 512; p += 64)
		EXPECT_ALLOWED(&v, OP_WRITE, PAGE(p), p, NULL);
	memattr_set(v.vm, PAGE(300), SZ_4K, NW);
	for (p = 0; p < 512; p += 37)
		if (p != 300)
			EXPECT_ALLOWED(&v, OP_WRITE, PAGE(p) + 16, p, NULL);
	EXPECT_DENIED(&v, OP_WRITE, PAGE(300) + 16, 1, F_WRITE);
	relax_and_retry(&v, PAGE(300) + 16, 0, NULL);
	/* Uniform again: writes anywhere go through. */
	for (p = 0; p < 512; p += 51)
		EXPECT_ALLOWED(&v, OP_WRITE, PAGE(p) + 24, p, NULL);
	kvm_vm_free(v.vm);
	pr_info("huge pages split around a protected page: ok\n");
}

/*
 * A uniformly NX 2 MiB range mapped huge, then split by enabling dirty
 * logging (eager split): the 4K children must stay non-executable.  With
 * the NX huge-page mitigation on (kvm.nx_huge_pages=force), the split used
 * to make every child executable, so a fetch ran without an exit.
 */
static void test_nx_split(void)
{
	struct vmx v = create(KVM_X86_DEFAULT_VM, VM_MEM_SRC_ANONYMOUS_THP, 0);
	char nx_huge[8] = "?";
	uint64_t p;
	FILE *f;

	for (p = 0; p < 512; p++)
		memcpy(hva(&v, PAGE(p)), code, sizeof(code));
	memattr_set(v.vm, PAGE(0), 512 * SZ_4K, NX);
	/* Reads map the uniform range with one huge, non-executable SPTE. */
	for (p = 0; p < 512; p += 64)
		EXPECT_ALLOWED(&v, OP_READ, PAGE(p), 0, NULL);
	/* Dirty logging splits huge mappings eagerly. */
	vm_mem_region_set_flags(v.vm, DATA_SLOT, KVM_MEM_LOG_DIRTY_PAGES);
	EXPECT_DENIED(&v, OP_EXEC, PAGE(200), 0, F_EXEC);
	relax_and_retry(&v, PAGE(200), 0, NULL);
	EXPECT_DENIED(&v, OP_EXEC, PAGE(201), 0, F_EXEC);
	relax_and_retry(&v, PAGE(201), 0, NULL);
	f = fopen("/sys/module/kvm/parameters/nx_huge_pages", "r");
	if (f) {
		TEST_ASSERT(fscanf(f, "%7s", nx_huge) == 1, "nx_huge_pages");
		fclose(f);
	}
	kvm_vm_free(v.vm);
	pr_info("NX kept when a huge page is split (kvm.nx_huge_pages=%s): ok\n", nx_huge);
}

static void test_pre_fault(void)
{
	struct vmx v = create(KVM_X86_DEFAULT_VM, VM_MEM_SRC_ANONYMOUS, 0);
	struct kvm_pre_fault_memory range = { .gpa = PAGE(20), .size = SZ_4K };
	int r;

	if (!kvm_check_cap(KVM_CAP_PRE_FAULT_MEMORY)) {
		pr_info("KVM_PRE_FAULT_MEMORY not supported here (shadow paging): skipped part\n");
		kvm_vm_free(v.vm);
		return;
	}
	EXPECT_ALLOWED(&v, OP_READ, PAGE(0), 0, NULL);
	memattr_set(v.vm, PAGE(20), SZ_4K, NW);
	r = __vcpu_ioctl(v.vcpu, KVM_PRE_FAULT_MEMORY, &range);
	TEST_ASSERT(!r, "pre-fault of an NW page: %d errno %d", r, errno);
	EXPECT_DENIED(&v, OP_WRITE, PAGE(20), 1, F_WRITE);
	relax_and_retry(&v, PAGE(20), 0, NULL);

	memattr_set(v.vm, PAGE(21), SZ_4K, NR | NW | NX);
	range = (struct kvm_pre_fault_memory){ .gpa = PAGE(21), .size = SZ_4K };
	/* A denied prefetch is no exit: it must leave kvm_run alone. */
	v.vcpu->run->memory_fault.flags = 0x5a;
	v.vcpu->run->memory_fault.gpa = 0x5a5a000;
	r = __vcpu_ioctl(v.vcpu, KVM_PRE_FAULT_MEMORY, &range);
	TEST_ASSERT(r == -1 && errno == EFAULT, "pre-fault of an NR page: %d errno %d", r, errno);
	TEST_ASSERT(v.vcpu->run->memory_fault.flags == 0x5a &&
		    v.vcpu->run->memory_fault.gpa == 0x5a5a000,
		    "a denied pre-fault wrote memory-fault data: flags %#llx gpa %#llx",
		    v.vcpu->run->memory_fault.flags, v.vcpu->run->memory_fault.gpa);
	EXPECT_DENIED(&v, OP_READ, PAGE(21), 0, F_READ);
	relax_and_retry(&v, PAGE(21), 0, NULL);
	kvm_vm_free(v.vm);
	pr_info("KVM_PRE_FAULT_MEMORY honours NR/NW: ok\n");
}

static void test_sw_protected(void)
{
	struct vmx v = create(KVM_X86_SW_PROTECTED_VM, VM_MEM_SRC_ANONYMOUS, 0);

	memattr_set(v.vm, PAGE(30), SZ_4K, NW);
	memattr_set(v.vm, PAGE(31), SZ_4K, PRIV);
	EXPECT_DENIED(&v, OP_WRITE, PAGE(30), 1, F_WRITE);
	relax_and_retry(&v, PAGE(30), 0, NULL);
	/* Private/shared mismatch keeps upstream's exit. */
	EXPECT_DENIED(&v, OP_READ, PAGE(31), 0, KVM_MEMORY_EXIT_FLAG_PRIVATE);
	relax_and_retry(&v, PAGE(31), 0, NULL);
	kvm_vm_free(v.vm);
	pr_info("software-protected VM, PRIVATE and NW side by side: ok\n");
}

static void *spin_vcpu(void *arg)
{
	return (void *)op(arg, OP_SPIN_WRITE, PAGE(40), 0, NULL);
}

static void *resume_vcpu(void *arg)
{
	return (void *)resume(arg, PAGE(40), NULL);
}

/* A vCPU spinning on writes stops as soon as the SET that denies them returns. */
static void test_race(void)
{
	struct vmx v = create(KVM_X86_DEFAULT_VM, VM_MEM_SRC_ANONYMOUS, 0);
	volatile uint64_t *counter = hva(&v, PAGE(40));
	uint64_t c1, c2, round, start;
	pthread_t thread;
	void *flags;

	pthread_create(&thread, NULL, spin_vcpu, &v);
	for (round = 0; round < 3; round++) {
		start = *counter;
		while (*counter < start + 1000)
			;
		memattr_set(v.vm, PAGE(40), SZ_4K, NW);
		c1 = *counter;
		usleep(100 * 1000);
		c2 = *counter;
		TEST_ASSERT(c1 == c2, "round %lu: guest wrote %lu times after the SET returned",
			    round, c2 - c1);
		pthread_join(thread, &flags);
		TEST_ASSERT_EQ((uint64_t)flags, F_WRITE);
		if (round == 2)
			break;
		/* Relax: the guest retries the denied write and spins on. */
		memattr_set(v.vm, PAGE(40), SZ_4K, 0);
		pthread_create(&thread, NULL, resume_vcpu, &v);
	}
	kvm_vm_free(v.vm);
	pr_info("race: no write completes after the denying SET returns (3 rounds): ok\n");
}

/*
 * NR|NW without NX: accepted exactly where the MMU can map execute-only; the
 * page then runs but a data read or write (by the guest or by KVM's
 * emulator) exits.  Elsewhere EINVAL.
 */
static void test_exec_only(void)
{
	bool want = memattr_mmu_exec_only();
	struct vmx v = create(KVM_X86_DEFAULT_VM, VM_MEM_SRC_ANONYMOUS, 0);
	uint64_t r;
	int ret;

	memcpy(hva(&v, PAGE(40)), code, sizeof(code));
	/* Mapped readable, writable and executable first: the SET must narrow it. */
	EXPECT_ALLOWED(&v, OP_EXEC, PAGE(40), 0, &r);
	EXPECT_ALLOWED(&v, OP_READ, PAGE(40), 0, &r);
	ret = __memattr_set(v.vm, PAGE(40), SZ_4K, NR | NW);
	if (!want) {
		TEST_ASSERT(ret == -1 && errno == EINVAL,
			    "NR|NW without NX on an MMU without execute-only: %d/%d, expected EINVAL",
			    ret, errno);
		kvm_vm_free(v.vm);
		pr_info("execute-only: not offered by this MMU, NR without NX refused: ok\n");
		return;
	}
	TEST_ASSERT(!ret, "NR|NW without NX refused (errno %d) on EPT with execute-only", errno);
	EXPECT_ALLOWED(&v, OP_EXEC, PAGE(40), 0, &r);
	TEST_ASSERT_EQ(r, 0x1234);
	EXPECT_DENIED(&v, OP_READ, PAGE(40), 0, F_READ);
	relax_and_retry(&v, PAGE(40), 0, &r);
	memattr_set(v.vm, PAGE(40), SZ_4K, NR | NW);
	EXPECT_DENIED(&v, OP_WRITE, PAGE(40) + 64, 1, F_WRITE);
	relax_and_retry(&v, PAGE(40) + 64, 0, NULL);
	memattr_set(v.vm, PAGE(40), SZ_4K, NR | NW);
	if (is_forced_emulation_enabled) {
		EXPECT_DENIED(&v, OP_FEP_READ, PAGE(40), 0, F_READ);
		relax_and_retry(&v, PAGE(40), 0, NULL);
		memattr_set(v.vm, PAGE(40), SZ_4K, NR | NW);
	}
	/* Still runs after the denied data accesses. */
	EXPECT_ALLOWED(&v, OP_EXEC, PAGE(40), 0, &r);
	TEST_ASSERT_EQ(r, 0x1234);
	kvm_vm_free(v.vm);
	pr_info("execute-only (NR|NW, EPT): runs, data reads and writes exit: ok\n");
}

/* Accesses done by KVM's emulator on the guest's behalf are judged alike. */
static void test_emulated(void)
{
	struct vmx v;
	uint64_t r;

	if (!is_forced_emulation_enabled) {
		pr_info("forced emulation off (kvm.force_emulation_prefix=0): emulator part not run\n");
		return;
	}
	v = create(KVM_X86_DEFAULT_VM, VM_MEM_SRC_ANONYMOUS, 0);
	*hva(&v, PAGE(50)) = 0x77;
	memattr_set(v.vm, PAGE(50), SZ_4K, NW);
	EXPECT_ALLOWED(&v, OP_FEP_READ, PAGE(50), 0, &r);
	TEST_ASSERT_EQ(r, 0x77);
	EXPECT_DENIED(&v, OP_FEP_WRITE, PAGE(50), 0x88, F_WRITE);
	TEST_ASSERT_EQ(*hva(&v, PAGE(50)), 0x77);
	relax_and_retry(&v, PAGE(50), 0, NULL);
	TEST_ASSERT_EQ(*hva(&v, PAGE(50)), 0x88);

	memattr_set(v.vm, PAGE(51), SZ_4K, NR | NW | NX);
	EXPECT_DENIED(&v, OP_FEP_READ, PAGE(51), 0, F_READ);
	relax_and_retry(&v, PAGE(51), 0, NULL);
	kvm_vm_free(v.vm);
	pr_info("emulated reads and writes (forced emulation): ok\n");
}

/*
 * memattr_protect_test [-R]: -R leaves out the part whose guest spins without
 * exits (test_race), for emulators that never interrupt such a guest (Bochs).
 */
int main(int argc, char *argv[])
{
	bool no_race = argc > 1 && !strcmp(argv[1], "-R");

	TEST_REQUIRE(kvm_has_cap(KVM_CAP_MEMORY_ATTRIBUTES));
	TEST_REQUIRE(kvm_check_cap(KVM_CAP_MEMORY_ATTRIBUTES) & NW);

	test_basic(KVM_X86_DEFAULT_VM);
	test_memslot_recreate();
	test_dirty_log();
	test_hugepage();
	test_nx_split();
	test_pre_fault();
	if (no_race)
		pr_info("race: not run (-R)\n");
	else
		test_race();
	test_emulated();
	test_exec_only();
	/* Software-protected VMs need the TDP MMU, i.e. not shadow paging. */
	if (kvm_check_cap(KVM_CAP_VM_TYPES) & BIT(KVM_X86_SW_PROTECTED_VM)) {
		test_basic(KVM_X86_SW_PROTECTED_VM);
		test_sw_protected();
	} else {
		pr_info("no software-protected VMs here: their part is not run\n");
	}
	return 0;
}
