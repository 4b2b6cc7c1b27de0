// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hostile input: random KVM_SET_MEMORY_ATTRIBUTES / KVM_GET_MEMORY_ATTRIBUTES
 * calls with random addresses, sizes, attribute bits, flags and bad pointers,
 * from several threads at once, on every VM type.  Only documented errors may
 * come back, every call the rules accept must succeed, every call they reject
 * must fail with EINVAL, and each thread's window of the map must end up
 * exactly as its accepted calls left it.  The expected validity is computed
 * here independently of the kernel (DESIGN section 2).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "kvm_util.h"
#include "test_util.h"
#include "memattr_util.h"

#define NR	KVM_MEMORY_ATTRIBUTE_NR
#define NW	KVM_MEMORY_ATTRIBUTE_NW
#define NX	KVM_MEMORY_ATTRIBUTE_NX
#define PRIV	KVM_MEMORY_ATTRIBUTE_PRIVATE
#define RWX	(NR | NW | NX)
#define SZ_4K	4096ULL

#define THREADS_PER_VM	2
#define WINDOW_PAGES	1024
#define OPS_PER_THREAD	3000

struct worker {
	pthread_t thread;
	struct kvm_vm *vm;
	uint64_t caps;
	uint64_t base;			/* first gpa of this thread's window */
	unsigned int seed;
	uint64_t model[WINDOW_PAGES];
	unsigned long tried, accepted, einval, efault, enomem;
};

static void *bad_ptr;
/* The MMU maps NR without NX execute-only (EPT with execute-only). */
static bool exec_only;

static uint64_t rnd(unsigned int *seed)
{
	return (uint64_t)rand_r(seed) << 33 ^ (uint64_t)rand_r(seed) << 11 ^ rand_r(seed);
}

/* The rules of DESIGN section 2, written down independently of the kernel. */
static bool set_is_valid(const struct kvm_memory_attributes *a, uint64_t caps)
{
	if (a->flags || a->size == 0 || a->address + a->size < a->address)
		return false;
	if ((a->address | a->size) & (SZ_4K - 1))
		return false;
	if (a->attributes & ~caps)
		return false;
	if ((a->attributes & PRIV) && (a->attributes & RWX))
		return false;
	/* NR needs NW, and NX too unless the MMU maps execute-only. */
	if ((a->attributes & NR) && !(a->attributes & NW))
		return false;
	if ((a->attributes & NR) && !(a->attributes & NX) && !exec_only)
		return false;
	return true;
}

static void expect_errno(struct worker *w, int r, int want, const char *what,
			 const struct kvm_memory_attributes *a)
{
	if (!r)
		w->accepted++;
	else if (errno == EINVAL)
		w->einval++;
	else if (errno == EFAULT)
		w->efault++;
	else if (errno == ENOMEM)
		w->enomem++;
	TEST_ASSERT((want == 0 && (!r || errno == ENOMEM)) || (want && r == -1 && errno == want),
		    "%s {%#llx, %#llx, %#llx, %#llx}: got %d errno %d, expected %s",
		    what, a->address, a->size, a->attributes, a->flags, r, r ? errno : 0,
		    want ? strerror(want) : "success");
}

static uint64_t random_attrs(struct worker *w)
{
	switch (rand_r(&w->seed) % 4) {
	case 0:
		return 0;
	case 1:
		return rnd(&w->seed);		/* anything at all */
	default:
		return rand_r(&w->seed) & 0xf;	/* the defined bits, any combination */
	}
}

static void model_check(struct worker *w)
{
	struct kvm_memory_attributes a;
	uint64_t gpa, end = w->base + WINDOW_PAGES * SZ_4K;
	int p;

	for (gpa = w->base; gpa < end; gpa += a.size) {
		a = (struct kvm_memory_attributes){ .address = gpa, .size = end - gpa };
		vm_ioctl(w->vm, KVM_GET_MEMORY_ATTRIBUTES, &a);
		p = (gpa - w->base) / SZ_4K;
		for (uint64_t i = 0; i < a.size / SZ_4K; i++)
			TEST_ASSERT(w->model[p + i] == a.attributes,
				    "window %#lx page %lu: GET says %#llx, accepted calls left %#lx",
				    w->base, p + i, a.attributes, w->model[p + i]);
		TEST_ASSERT(gpa + a.size == end || w->model[p + a.size / SZ_4K] != a.attributes,
			    "window %#lx: run at page %d not maximal", w->base, p);
	}
}

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	struct kvm_memory_attributes a;
	int i, r;

	for (i = 0; i < OPS_PER_THREAD; i++) {
		uint64_t start = rand_r(&w->seed) % WINDOW_PAGES;
		uint64_t len = 1 + rand_r(&w->seed) % (WINDOW_PAGES - start);

		w->tried++;
		memset(&a, 0, sizeof(a));
		switch (rand_r(&w->seed) % 10) {
		case 0 ... 4:	/* inside the window, any attributes */
			a.address = w->base + start * SZ_4K;
			a.size = len * SZ_4K;
			a.attributes = random_attrs(w);
			if (!(rand_r(&w->seed) % 8))
				a.flags = rnd(&w->seed) | 1;
			r = __vm_ioctl(w->vm, KVM_SET_MEMORY_ATTRIBUTES, &a);
			expect_errno(w, r, set_is_valid(&a, w->caps) ? 0 : EINVAL, "SET", &a);
			if (!r)
				for (uint64_t p = start; p < start + len; p++)
					w->model[p] = a.attributes;
			break;
		case 5:		/* anywhere: garbage address and size */
			a.address = rnd(&w->seed);
			a.size = rnd(&w->seed) >> (rand_r(&w->seed) % 64);
			a.attributes = random_attrs(w);
			/* Keep the other windows out of it: aim above them all. */
			a.address |= 1ULL << 62;
			r = __vm_ioctl(w->vm, KVM_SET_MEMORY_ATTRIBUTES, &a);
			expect_errno(w, r, set_is_valid(&a, w->caps) ? 0 : EINVAL, "SET garbage", &a);
			break;
		case 6:		/* unaligned */
			a.address = w->base + start * SZ_4K + 1 + rand_r(&w->seed) % 4095;
			a.size = len * SZ_4K;
			r = __vm_ioctl(w->vm, KVM_SET_MEMORY_ATTRIBUTES, &a);
			expect_errno(w, r, EINVAL, "SET unaligned", &a);
			break;
		case 7: {	/* bad pointers */
			struct kvm_memory_attributes *p = rand_r(&w->seed) % 2 ? bad_ptr :
							  (void *)0xffffffff81000000ULL;

			if (rand_r(&w->seed) % 2)
				r = __vm_ioctl(w->vm, KVM_SET_MEMORY_ATTRIBUTES, p);
			else
				r = __vm_ioctl(w->vm, KVM_GET_MEMORY_ATTRIBUTES, p);
			expect_errno(w, r, EFAULT, "bad pointer", &a);
			break;
		}
		case 8:		/* GET inside the window, checked against the model */
			a.address = w->base + start * SZ_4K;
			a.size = len * SZ_4K;
			r = __vm_ioctl(w->vm, KVM_GET_MEMORY_ATTRIBUTES, &a);
			expect_errno(w, r, 0, "GET", &a);
			TEST_ASSERT(a.attributes == w->model[start],
				    "GET at page %lu: %#llx, model %#lx", start, a.attributes,
				    w->model[start]);
			break;
		default:	/* GET with garbage */
			a.address = rnd(&w->seed);
			a.size = rnd(&w->seed) >> (rand_r(&w->seed) % 64);
			a.flags = rand_r(&w->seed) % 4 ? 0 : rnd(&w->seed);
			r = __vm_ioctl(w->vm, KVM_GET_MEMORY_ATTRIBUTES, &a);
			expect_errno(w, r, (a.flags || !a.size || a.address + a.size < a.address ||
					    ((a.address | a.size) & (SZ_4K - 1))) ? EINVAL : 0,
				     "GET garbage", &a);
			break;
		}
	}
	return NULL;
}

int main(int argc, char *argv[])
{
	static struct worker w[2 * THREADS_PER_VM];
	unsigned long types[2] = { KVM_X86_DEFAULT_VM, KVM_X86_SW_PROTECTED_VM };
	unsigned long tried = 0, accepted = 0, einval = 0, efault = 0, enomem = 0;
	struct kvm_vm *vms[2];
	int v, t, n = 0;

	exec_only = memattr_mmu_exec_only();

	TEST_REQUIRE(kvm_has_cap(KVM_CAP_MEMORY_ATTRIBUTES));
	TEST_REQUIRE(kvm_check_cap(KVM_CAP_VM_TYPES) & BIT(KVM_X86_SW_PROTECTED_VM));

	/* An address that is certainly not mapped. */
	bad_ptr = mmap(NULL, SZ_4K, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(bad_ptr != MAP_FAILED, "mmap");

	for (v = 0; v < 2; v++) {
		vms[v] = vm_create_barebones_type(types[v]);
		for (t = 0; t < THREADS_PER_VM; t++, n++) {
			w[n].vm = vms[v];
			w[n].caps = vm_check_cap(vms[v], KVM_CAP_MEMORY_ATTRIBUTES);
			w[n].base = (uint64_t)(t + 1) << 32;
			w[n].seed = 1000 + n;
			pthread_create(&w[n].thread, NULL, worker_fn, &w[n]);
		}
	}
	for (t = 0; t < n; t++) {
		pthread_join(w[t].thread, NULL);
		model_check(&w[t]);
		tried += w[t].tried;
		accepted += w[t].accepted;
		einval += w[t].einval;
		efault += w[t].efault;
		enomem += w[t].enomem;
	}
	for (v = 0; v < 2; v++)
		kvm_vm_free(vms[v]);
	pr_info("hostile input: %lu calls from %d threads on 2 VM types: %lu accepted, "
		"%lu EINVAL, %lu EFAULT, %lu ENOMEM; every window matches its model\n",
		tried, n, accepted, einval, efault, enomem);
	return 0;
}
