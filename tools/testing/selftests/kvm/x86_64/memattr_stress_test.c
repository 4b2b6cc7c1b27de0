// SPDX-License-Identifier: GPL-2.0-only
/*
 * Stress: vCPUs write to memory while host threads protect, convert and
 * relax random overlapping ranges and another thread deletes and re-creates
 * a memslot the guest also reads.  Checked throughout: while a page's
 * attributes deny writes (NW, NR, or PRIVATE without guest_memfd), its
 * contents do not change; at the end the GET walk equals the model of every
 * accepted SET.  Bounded in time (DURATION_S) and reports its counts.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"

#define NR	KVM_MEMORY_ATTRIBUTE_NR
#define NW	KVM_MEMORY_ATTRIBUTE_NW
#define NX	KVM_MEMORY_ATTRIBUTE_NX
#define PRIV	KVM_MEMORY_ATTRIBUTE_PRIVATE
#define SZ_4K	4096ULL

#define A_GPA		0xc0000000ULL
#define A_SLOT		10
#define A_PAGES		512
#define B_GPA		0xd0000000ULL
#define B_SLOT		11
#define B_PAGES		16
#define NR_VCPUS	2
#define DURATION_S	15

static uint64_t stop;

static void guest_code(uint64_t id)
{
	volatile uint64_t *a = (volatile uint64_t *)A_GPA;
	volatile uint64_t *b = (volatile uint64_t *)B_GPA;
	uint64_t n = 0, i;

	while (!READ_ONCE(stop)) {
		for (i = 0; i < A_PAGES; i++)
			a[i * 512 + id] = ++n;
		for (i = 0; i < B_PAGES; i++)
			(void)b[i * 512];
	}
	GUEST_DONE();
}

static struct kvm_vm *vm;
static pthread_mutex_t model_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t model[A_PAGES], gen[A_PAGES];
static volatile bool done;
static unsigned long sets, checks, denied_exits[NR_VCPUS], mmio_exits[NR_VCPUS], slot_cycles;

static void set_locked(uint64_t first, uint64_t n, uint64_t attrs)
{
	struct kvm_memory_attributes a = {
		.address = A_GPA + first * SZ_4K, .size = n * SZ_4K, .attributes = attrs,
	};

	vm_ioctl(vm, KVM_SET_MEMORY_ATTRIBUTES, &a);
	for (uint64_t p = first; p < first + n; p++) {
		model[p] = attrs;
		gen[p]++;
	}
	sets++;
}

static bool write_denied(uint64_t attrs)
{
	return attrs & (NW | NR | PRIV);
}

static void *vcpu_thread(void *arg)
{
	struct kvm_vcpu *vcpu = arg;
	struct ucall uc;
	int id = vcpu->id;

	for (;;) {
		int r = _vcpu_run(vcpu);

		if (r) {
			TEST_ASSERT(errno == EFAULT && vcpu->run->exit_reason == KVM_EXIT_MEMORY_FAULT,
				    "vCPU %d: KVM_RUN %d errno %d exit %u", id, r, errno,
				    vcpu->run->exit_reason);
			denied_exits[id]++;
			usleep(50);	/* wait for the attributes to be relaxed */
			continue;
		}
		if (vcpu->run->exit_reason == KVM_EXIT_MMIO) {
			/* Slot B is gone for a moment: reads return zeros. */
			mmio_exits[id]++;
			continue;
		}
		TEST_ASSERT(get_ucall(vcpu, &uc) == UCALL_DONE, "vCPU %d: unexpected ucall", id);
		return NULL;
	}
}

static void *protector(void *arg)
{
	unsigned int seed = (uintptr_t)arg;
	static const uint64_t deny[] = { NW, NW | NX, NR | NW | NX, PRIV };
	uint64_t snap[64][NR_VCPUS], snap_gen[64];

	while (!done) {
		uint64_t first = rand_r(&seed) % A_PAGES;
		uint64_t n = 1 + rand_r(&seed) % 64, p, v;
		uint64_t attrs = deny[rand_r(&seed) % 4];

		if (first + n > A_PAGES)
			n = A_PAGES - first;
		pthread_mutex_lock(&model_lock);
		set_locked(first, n, attrs);
		/* The SET has returned: no vCPU may write these pages any more. */
		for (p = 0; p < n; p++) {
			uint64_t *hva = addr_gpa2hva(vm, A_GPA + (first + p) * SZ_4K);

			for (v = 0; v < NR_VCPUS; v++)
				snap[p][v] = READ_ONCE(hva[v]);
			snap_gen[p] = gen[first + p];
		}
		pthread_mutex_unlock(&model_lock);

		usleep(1000 + rand_r(&seed) % 2000);

		pthread_mutex_lock(&model_lock);
		for (p = 0; p < n; p++) {
			uint64_t *hva = addr_gpa2hva(vm, A_GPA + (first + p) * SZ_4K);

			/* Still as this thread left it: the contents must not have moved. */
			if (gen[first + p] != snap_gen[p] || !write_denied(model[first + p]))
				continue;
			for (v = 0; v < NR_VCPUS; v++)
				TEST_ASSERT(READ_ONCE(hva[v]) == snap[p][v],
					    "page %lu (attrs %#lx): vCPU %lu wrote after the SET denied it",
					    first + p, model[first + p], v);
			checks++;
		}
		/* Relax, sometimes only to NX (writes allowed again). */
		set_locked(first, n, rand_r(&seed) % 3 ? 0 : NX);
		pthread_mutex_unlock(&model_lock);
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

int main(int argc, char *argv[])
{
	const struct vm_shape shape = { .mode = VM_MODE_DEFAULT, .type = KVM_X86_SW_PROTECTED_VM };
	struct kvm_vcpu *vcpus[NR_VCPUS];
	pthread_t vt[NR_VCPUS], pt[2], st;
	struct kvm_memory_attributes a;
	uint64_t gpa, end = A_GPA + A_PAGES * SZ_4K;
	int i;

	TEST_REQUIRE(kvm_check_cap(KVM_CAP_VM_TYPES) & BIT(KVM_X86_SW_PROTECTED_VM));
	TEST_REQUIRE(kvm_check_cap(KVM_CAP_MEMORY_ATTRIBUTES) & NW);

	vm = __vm_create_with_vcpus(shape, NR_VCPUS, A_PAGES + B_PAGES, guest_code, vcpus);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, A_GPA, A_SLOT, A_PAGES, 0);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, B_GPA, B_SLOT, B_PAGES, 0);
	virt_map(vm, A_GPA, A_GPA, A_PAGES);
	virt_map(vm, B_GPA, B_GPA, B_PAGES);
	for (i = 0; i < NR_VCPUS; i++) {
		vcpu_args_set(vcpus[i], 1, i);
		pthread_create(&vt[i], NULL, vcpu_thread, vcpus[i]);
	}
	for (i = 0; i < 2; i++)
		pthread_create(&pt[i], NULL, protector, (void *)(uintptr_t)(i + 1));
	pthread_create(&st, NULL, slot_thread, NULL);

	sleep(DURATION_S);
	done = true;
	for (i = 0; i < 2; i++)
		pthread_join(pt[i], NULL);
	pthread_join(st, NULL);

	/* Nothing lost or reordered: the map is exactly the model. */
	for (gpa = A_GPA; gpa < end; gpa += a.size) {
		a = (struct kvm_memory_attributes){ .address = gpa, .size = end - gpa };
		vm_ioctl(vm, KVM_GET_MEMORY_ATTRIBUTES, &a);
		for (uint64_t p = (gpa - A_GPA) / SZ_4K; p < (gpa + a.size - A_GPA) / SZ_4K; p++)
			TEST_ASSERT(model[p] == a.attributes, "page %lu: GET %#llx, model %#lx",
				    p, a.attributes, model[p]);
	}

	/* Let the vCPUs finish. */
	pthread_mutex_lock(&model_lock);
	set_locked(0, A_PAGES, 0);
	pthread_mutex_unlock(&model_lock);
	*(uint64_t *)addr_gva2hva(vm, (uint64_t)&stop) = 1;
	for (i = 0; i < NR_VCPUS; i++)
		pthread_join(vt[i], NULL);

	pr_info("stress %ds: %lu SETs, %lu denied-page checks, %lu+%lu denied exits, "
		"%lu+%lu MMIO exits, %lu memslot delete/re-create cycles; map equals model\n",
		DURATION_S, sets, checks, denied_exits[0], denied_exits[1], mmio_exits[0],
		mmio_exits[1], slot_cycles);
	kvm_vm_free(vm);
	return 0;
}
