// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kvm-memattr demonstration (make run): a software-protected VM whose
 * guest reads a page in a loop; the VMM converts the page to private, the
 * guest's next access becomes a KVM_EXIT_MEMORY_FAULT, the VMM converts it
 * back and the guest's retried access completes.  Then a 1 TiB range is set
 * in one call and the attribute map is walked run by run with
 * KVM_GET_MEMORY_ATTRIBUTES.  Exits 0 only if every expected event happened.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "memattr_util.h"

#define DEMO_GPA	0xc0000000ULL
#define DEMO_SLOT	10
#define SZ_4K		4096ULL

static void guest_code(void)
{
	volatile uint64_t *p = (volatile uint64_t *)DEMO_GPA;

	for (;;)
		GUEST_SYNC(*p);
}

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("[demo] ");
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static void walk(struct kvm_vm *vm, uint64_t start, uint64_t end)
{
	struct kvm_memory_attributes a;
	uint64_t gpa;

	for (gpa = start; gpa < end; gpa += a.size) {
		a = (struct kvm_memory_attributes){ .address = gpa, .size = end - gpa };
		vm_ioctl(vm, KVM_GET_MEMORY_ATTRIBUTES, &a);
		say("    [0x%012lx, 0x%012llx)  %-7s  (%llu pages)\n", gpa, gpa + a.size,
		    a.attributes & KVM_MEMORY_ATTRIBUTE_PRIVATE ? "private" : "shared",
		    a.size / SZ_4K);
	}
}

static void show_backend(struct kvm_vm *vm)
{
	FILE *f = memattr_debugfs(vm);
	char line[128];

	if (!f) {
		say("  (no debugfs counters)\n");
		return;
	}
	while (fgets(line, sizeof(line), f))
		say("    %s", line);
	fclose(f);
}

int main(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	int r;

	setbuf(stdout, NULL);
	TEST_REQUIRE(kvm_check_cap(KVM_CAP_VM_TYPES) & BIT(KVM_X86_SW_PROTECTED_VM));

	say("KVM_CAP_MEMORY_ATTRIBUTES on /dev/kvm: %#x\n",
	    kvm_check_cap(KVM_CAP_MEMORY_ATTRIBUTES));
	const struct vm_shape shape = {
		.mode = VM_MODE_DEFAULT,
		.type = KVM_X86_SW_PROTECTED_VM,
	};

	vm = vm_create_shape_with_one_vcpu(shape, &vcpu, guest_code);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, DEMO_GPA, DEMO_SLOT, 1, 0);
	virt_map(vm, DEMO_GPA, DEMO_GPA, 1);
	say("created a software-protected VM; memory attributes served by:\n");
	show_backend(vm);

	vcpu_run(vcpu);
	memattr_expect_ucall(vcpu, UCALL_SYNC, &uc);
	say("guest read gpa %#llx: ok (page is shared)\n", DEMO_GPA);

	vm_set_memory_attributes(vm, DEMO_GPA, SZ_4K, KVM_MEMORY_ATTRIBUTE_PRIVATE);
	say("VMM: KVM_SET_MEMORY_ATTRIBUTES [%#llx, +4 KiB) = PRIVATE\n", DEMO_GPA);

	r = _vcpu_run(vcpu);
	TEST_ASSERT(r == -1 && errno == EFAULT, "KVM_RUN: expected -1/EFAULT, got %d/%d", r, errno);
	TEST_ASSERT_EQ(vcpu->run->exit_reason, KVM_EXIT_MEMORY_FAULT);
	TEST_ASSERT_EQ(vcpu->run->memory_fault.flags, KVM_MEMORY_EXIT_FLAG_PRIVATE);
	TEST_ASSERT_EQ(vcpu->run->memory_fault.gpa, DEMO_GPA);
	say("guest access -> KVM_EXIT_MEMORY_FAULT: gpa %#llx size %llu flags %#llx (PRIVATE)\n",
	    vcpu->run->memory_fault.gpa, vcpu->run->memory_fault.size,
	    vcpu->run->memory_fault.flags);

	vm_set_memory_attributes(vm, DEMO_GPA, SZ_4K, 0);
	say("VMM: converted the page back to shared and re-entered\n");
	vcpu_run(vcpu);
	memattr_expect_ucall(vcpu, UCALL_SYNC, &uc);
	say("guest retried its access: ok\n");

	vm_set_memory_attributes(vm, 1ULL << 30, 1ULL << 40, KVM_MEMORY_ATTRIBUTE_PRIVATE);
	vm_set_memory_attributes(vm, 3ULL << 30, SZ_4K, 0);
	say("VMM: set [1 GiB, 1 GiB + 1 TiB) PRIVATE in one call, then punched one page at 3 GiB\n");
	say("attribute map, walked run by run with KVM_GET_MEMORY_ATTRIBUTES:\n");
	walk(vm, 0, 2ULL << 40);
	say("counters:\n");
	show_backend(vm);

	kvm_vm_free(vm);
	say("all expected events happened\n");
	return 0;
}
