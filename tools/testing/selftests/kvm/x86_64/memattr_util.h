/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the kvm-memattr selftests: raw SET, kvm_memattr's per-VM
 * debugfs counters, the xarray node slab, and a missing page served by
 * userfaultfd.
 */
#ifndef SELFTEST_KVM_MEMATTR_UTIL_H
#define SELFTEST_KVM_MEMATTR_UTIL_H

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <linux/userfaultfd.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"

/* The library's vm_set_memory_attributes() only knows PRIVATE. */
static inline int __memattr_set(struct kvm_vm *vm, uint64_t gpa, uint64_t size,
				uint64_t attrs)
{
	struct kvm_memory_attributes a = { .address = gpa, .size = size, .attributes = attrs };

	return __vm_ioctl(vm, KVM_SET_MEMORY_ATTRIBUTES, &a);
}

static inline void memattr_set(struct kvm_vm *vm, uint64_t gpa, uint64_t size,
			       uint64_t attrs)
{
	int r = __memattr_set(vm, gpa, size, attrs);

	TEST_ASSERT(!r, "SET [%#lx, +%#lx) = %#lx: expected success, got %d errno %d",
		    gpa, size, attrs, r, errno);
}

/* Path of @file in the VM's debugfs directory ("" for the directory). */
static inline void memattr_debugfs_path(struct kvm_vm *vm, const char *file, char *buf,
					size_t len)
{
	snprintf(buf, len, "/sys/kernel/debug/kvm/%d-%d/%s", getpid(), vm->fd, file);
}

/* The VM's debugfs file; NULL without debugfs. */
static inline FILE *memattr_debugfs(struct kvm_vm *vm)
{
	char path[128];

	memattr_debugfs_path(vm, "memory_attributes", path, sizeof(path));
	return fopen(path, "r");
}

/* The store serving the VM ("kvm_memattr" or "upstream"), into buf. */
static inline const char *memattr_backend(struct kvm_vm *vm, char *buf, size_t len)
{
	FILE *f = memattr_debugfs(vm);

	if (!f)
		return NULL;
	TEST_ASSERT(len >= 64 && fscanf(f, "backend: %63s", buf) == 1,
		    "cannot parse the VM's memory_attributes file");
	fclose(f);
	return buf;
}

/* One numeric counter of the VM's debugfs file (kvm_memattr only). */
static inline uint64_t memattr_stat(struct kvm_vm *vm, const char *name)
{
	FILE *f = memattr_debugfs(vm);
	char line[128], key[64];
	unsigned long long v;

	TEST_ASSERT(f, "no memory_attributes file for the VM");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63[^:]: %llu", key, &v) == 2 && !strcmp(key, name)) {
			fclose(f);
			return v;
		}
	}
	fclose(f);
	TEST_FAIL("no '%s' in the VM's memory_attributes file", name);
	return 0;
}

/*
 * Bytes held by xarray nodes (the radix_tree_node slab) right now.  Shrinking
 * the cache first also empties KASAN's quarantine of freed nodes, which would
 * otherwise still count as allocated on a KASAN kernel.
 */
static inline long long memattr_xa_node_bytes(void)
{
	char line[512], name[64];
	long long active, total, size;
	FILE *f = fopen("/sys/kernel/slab/radix_tree_node/shrink", "w");

	if (f) {
		fputs("1", f);
		fclose(f);
	}
	f = fopen("/proc/slabinfo", "r");

	TEST_ASSERT(f, "/proc/slabinfo: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %lld %lld %lld", name, &active, &total, &size) == 4 &&
		    !strcmp(name, "radix_tree_node")) {
			fclose(f);
			return active * size;
		}
	}
	fclose(f);
	TEST_FAIL("no radix_tree_node in /proc/slabinfo");
	return 0;
}

/* Does this host's MMU map execute-only?  EPT on, and a CPU with ept_x_only. */
static inline bool memattr_mmu_exec_only(void)
{
	char line[4096], ept = 'N';
	bool x_only = false;
	FILE *f = fopen("/sys/module/kvm_intel/parameters/ept", "r");

	if (f) {
		ept = fgetc(f);
		fclose(f);
	}
	f = fopen("/proc/cpuinfo", "r");
	TEST_ASSERT(f, "/proc/cpuinfo");
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "vmx flags", 9) && strstr(line, " ept_x_only"))
			x_only = true;
	fclose(f);
	return ept == 'Y' && x_only;
}

/* A one-vCPU VM with @pages of anonymous memory at @gpa, identity-mapped. */
struct memattr_vm {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
};

static inline struct memattr_vm memattr_vm_create(void *guest_code, uint64_t gpa, uint32_t slot,
						  uint64_t pages)
{
	struct memattr_vm v;

	v.vm = vm_create_with_one_vcpu(&v.vcpu, guest_code);
	vm_userspace_mem_region_add(v.vm, VM_MEM_SRC_ANONYMOUS, gpa, slot, pages, 0);
	virt_map(v.vm, gpa, gpa, pages);
	return v;
}

/* A test made of parts that can also run one by one: "TEST [PART...]". */
struct memattr_part {
	const char *name;
	void (*fn)(void);
	/* NULL, or whether the part is for this host (CPU vendor, MMU). */
	bool (*for_host)(void);
};

static inline bool memattr_host_amd(void)
{
	return host_cpu_is_amd;
}

static inline bool memattr_host_intel(void)
{
	return host_cpu_is_intel;
}

/*
 * Every part for this host (the others are named, one line each), or only
 * those named on the command line; an unknown name fails.
 */
static inline void memattr_run_parts(const struct memattr_part *parts, size_t n, int argc,
				     char *argv[])
{
	char names[512] = "";
	int ran = 0;

	for (size_t i = 0; i < n; i++) {
		bool want = argc == 1;

		for (int a = 1; a < argc; a++)
			want |= !strcmp(argv[a], parts[i].name);
		if (want && argc == 1 && parts[i].for_host && !parts[i].for_host()) {
			pr_info("part %s: not for this host, not run (name it to run it)\n",
				parts[i].name);
			ran++;
		} else if (want) {
			parts[i].fn();
			ran++;
		}
		snprintf(names + strlen(names), sizeof(names) - strlen(names), " %s",
			 parts[i].name);
	}
	TEST_ASSERT(ran == (argc == 1 ? (int)n : argc - 1), "unknown part name; parts:%s", names);
}

/*
 * Whether the CPU walks guest page tables (NPT or EPT) rather than KVM.  The
 * vendor module in use decides: a built-in kvm_intel shows ept=Y on AMD too.
 */
static inline bool memattr_mmu_tdp(void)
{
	FILE *f = fopen(host_cpu_is_amd ? "/sys/module/kvm_amd/parameters/npt" :
					  "/sys/module/kvm_intel/parameters/ept", "r");
	int c;

	TEST_ASSERT(f, "no NPT/EPT module parameter");
	c = fgetc(f);
	fclose(f);
	return c == 'Y' || c == '1';
}

/*
 * Print everything known about the vCPU's last exit: the KVM_RUN return and
 * errno, the exit reason, the memory-fault data, and for exits that end the
 * guest (SHUTDOWN, INTERNAL_ERROR, FAIL_ENTRY) or are otherwise unexpected the
 * registers and segment state, so that the next failure explains itself.
 */
static inline void memattr_report_exit(struct kvm_vcpu *vcpu, int r, int err,
				       const char *why)
{
	struct kvm_run *run = vcpu->run;

	fprintf(stderr, "vCPU %u: %s: KVM_RUN returned %d (errno %d), exit_reason %u (%s)\n",
		vcpu->id, why, r, err, run->exit_reason, exit_reason_str(run->exit_reason));
	fprintf(stderr, "  last memory_fault: flags %#llx gpa %#llx size %#llx\n",
		run->memory_fault.flags, run->memory_fault.gpa, run->memory_fault.size);
	switch (run->exit_reason) {
	case KVM_EXIT_INTERNAL_ERROR:
		fprintf(stderr, "  internal.suberror %u, ndata %u\n",
			run->internal.suberror, run->internal.ndata);
		for (unsigned int i = 0; i < run->internal.ndata && i < 16; i++)
			fprintf(stderr, "  internal.data[%u] %#llx\n", i, run->internal.data[i]);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		fprintf(stderr, "  fail_entry.hardware_entry_failure_reason %#llx cpu %u\n",
			run->fail_entry.hardware_entry_failure_reason, run->fail_entry.cpu);
		break;
	case KVM_EXIT_MMIO:
		fprintf(stderr, "  mmio: gpa %#llx len %u write %u\n",
			run->mmio.phys_addr, run->mmio.len, run->mmio.is_write);
		break;
	case KVM_EXIT_IO:
		fprintf(stderr, "  io: port %#x size %u dir %u\n",
			run->io.port, run->io.size, run->io.direction);
		break;
	}
	vcpu_dump(stderr, vcpu, 2);
	{
		struct kvm_vcpu_events ev;
		struct kvm_regs regs;
		uint8_t *code;

		vcpu_events_get(vcpu, &ev);
		fprintf(stderr, "  events: exception injected %u nr %u has_error %u error %#x pending %u "
			"payload %#llx; interrupt injected %u nr %u; nmi injected %u pending %u\n",
			ev.exception.injected, ev.exception.nr, ev.exception.has_error_code,
			ev.exception.error_code, ev.exception.pending, ev.exception_payload,
			ev.interrupt.injected, ev.interrupt.nr, ev.nmi.injected, ev.nmi.pending);
		vcpu_regs_get(vcpu, &regs);
		code = addr_gva2hva(vcpu->vm, regs.rip);
		fprintf(stderr, "  code at rip %#llx (gpa %#lx):", regs.rip,
			addr_gva2gpa(vcpu->vm, regs.rip));
		for (int i = 0; i < 16; i++)
			fprintf(stderr, " %02x", code[i]);
		fprintf(stderr, "\n");
	}
}

/*
 * After KVM_RUN returned 0: the exit must be the ucall @want; anything else
 * (a guest assertion, SHUTDOWN, an unexpected exit) is printed in full and
 * fails the test.
 */
static inline void memattr_expect_ucall(struct kvm_vcpu *vcpu, uint64_t want,
					struct ucall *uc)
{
	uint64_t got = get_ucall(vcpu, uc);

	if (got == want)
		return;
	memattr_report_exit(vcpu, 0, 0, "unexpected exit");
	if (got == UCALL_ABORT)
		REPORT_GUEST_ASSERT(*uc);
	TEST_FAIL("vCPU %u: expected ucall %lu, got %lu (exit reason %u, %s)", vcpu->id,
		  want, got, vcpu->run->exit_reason, exit_reason_str(vcpu->run->exit_reason));
}

/*
 * The guest side of the protection tests: one data access, by the CPU or by
 * KVM's emulator (forced-emulation prefix).  Tests number their own
 * operations from OP_LOCAL.
 */
enum {
	OP_READ = 1,
	OP_WRITE,
	OP_FEP_READ,
	OP_FEP_WRITE,
	OP_LOCAL,
};

static inline uint64_t memattr_guest_access(uint64_t op, uint64_t gva, uint64_t val)
{
	uint64_t r = 0;

	switch (op) {
	case OP_READ:
		r = *(volatile uint64_t *)gva;
		break;
	case OP_WRITE:
		*(volatile uint64_t *)gva = val;
		break;
	case OP_FEP_READ:
		asm volatile(KVM_FEP "movq (%1), %0" : "=r"(r) : "r"(gva) : "memory");
		break;
	case OP_FEP_WRITE:
		asm volatile(KVM_FEP "movq %0, (%1)" : : "r"(val), "r"(gva) : "memory");
		break;
	}
	return r;
}

/*
 * One KVM_RUN of a guest that reports each finished access with GUEST_SYNC:
 * 0, with the guest's value in *out, or the memory-fault flags of an access
 * denied at @gpa's page (gpa and size checked).  Anything else fails.
 */
static inline uint64_t memattr_run_access(struct kvm_vcpu *vcpu, uint64_t gpa, uint64_t *out)
{
	struct kvm_run *run = vcpu->run;
	struct ucall uc;
	int r = _vcpu_run(vcpu);

	if (r) {
		if (errno != EFAULT || run->exit_reason != KVM_EXIT_MEMORY_FAULT)
			memattr_report_exit(vcpu, r, errno, "unexpected KVM_RUN failure");
		TEST_ASSERT(r == -1 && errno == EFAULT && run->exit_reason == KVM_EXIT_MEMORY_FAULT,
			    "KVM_RUN %d errno %d exit %u: expected a memory fault", r, errno,
			    run->exit_reason);
		TEST_ASSERT(run->memory_fault.gpa == (gpa & ~4095ULL) &&
			    run->memory_fault.size == 4096,
			    "memory fault at gpa %#llx size %#llx, expected %#llx size 4096",
			    run->memory_fault.gpa, run->memory_fault.size, gpa & ~4095ULL);
		return run->memory_fault.flags;
	}
	memattr_expect_ucall(vcpu, UCALL_SYNC, &uc);
	if (out)
		*out = uc.args[1];
	return 0;
}

/*
 * Make the 4 KiB page at @page missing and register it with a new
 * userfaultfd (missing mode): the next access to it waits for the VMM.
 */
static inline int memattr_uffd_park(void *page)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = { .start = (uint64_t)page, .len = 4096 },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	int uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	__TEST_REQUIRE(uffd >= 0, "userfaultfd() failed (errno %d): CONFIG_USERFAULTFD?", errno);
	TEST_ASSERT(!ioctl(uffd, UFFDIO_API, &api), "UFFDIO_API");
	TEST_ASSERT(!madvise(page, 4096, MADV_DONTNEED), "MADV_DONTNEED");
	TEST_ASSERT(!ioctl(uffd, UFFDIO_REGISTER, &reg), "UFFDIO_REGISTER");
	return uffd;
}

/* Wait (30 s at most) for the fault on the missing @page. */
static inline void memattr_uffd_wait_fault(int uffd, void *page)
{
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };
	struct uffd_msg msg;

	TEST_ASSERT(poll(&pfd, 1, 30000) == 1, "no access reached the missing page %p", page);
	TEST_ASSERT(read(uffd, &msg, sizeof(msg)) == sizeof(msg), "read(uffd)");
	TEST_ASSERT(msg.event == UFFD_EVENT_PAGEFAULT &&
		    (msg.arg.pagefault.address & ~4095ULL) == (uint64_t)page,
		    "uffd event %u at %#llx, expected a fault on %p", msg.event,
		    msg.arg.pagefault.address, page);
}

/* Fill the missing @page, @val in its first 8 bytes, zero elsewhere. */
static inline void memattr_uffd_fill(int uffd, void *page, uint64_t val)
{
	static uint64_t src[4096 / 8] __attribute__((aligned(4096)));
	struct uffdio_copy copy = {
		.dst = (uint64_t)page, .src = (uint64_t)src, .len = 4096,
	};

	src[0] = val;
	TEST_ASSERT(!ioctl(uffd, UFFDIO_COPY, &copy), "UFFDIO_COPY: errno %d", errno);
}

#endif /* SELFTEST_KVM_MEMATTR_UTIL_H */
