// SPDX-License-Identifier: GPL-2.0
/*
 * One-line wrappers for the xarray and RCU inlines and macros that bindgen
 * cannot see.  All logic lives in Rust (xa.rs).
 */
#include <linux/bug.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/xarray.h>

#include "helpers.h"

void memattr_xas_init(struct xa_state *xas, struct xarray *xa,
		      unsigned long index, unsigned int order)
{
	*xas = (struct xa_state)__XA_STATE(xa, (index >> order) << order,
					   order - (order % XA_CHUNK_SHIFT),
					   (1U << (order % XA_CHUNK_SHIFT)) - 1);
}

void memattr_xa_init(struct xarray *xa) { xa_init_flags(xa, XA_FLAGS_ACCOUNT); }
void memattr_xa_lock(struct xarray *xa) { xa_lock(xa); }
void memattr_xa_unlock(struct xarray *xa) { xa_unlock(xa); }
void *memattr_xa_head(struct xarray *xa) { return rcu_dereference_raw(xa->xa_head); }
void memattr_rcu_read_lock(void) { rcu_read_lock(); }
void memattr_rcu_read_unlock(void) { rcu_read_unlock(); }
void *memattr_xa_mk_value(unsigned long v) { return xa_mk_value(v); }
unsigned long memattr_xa_to_value(const void *entry) { return xa_to_value(entry); }
bool memattr_xa_is_value(const void *entry) { return xa_is_value(entry); }
bool memattr_xa_is_node(const void *entry) { return xa_is_node(entry); }
struct xa_node *memattr_xa_to_node(const void *entry) { return xa_to_node(entry); }
void *memattr_xa_zero_entry(void) { return XA_ZERO_ENTRY; }
bool memattr_xas_retry(struct xa_state *xas, const void *entry) { return xas_retry(xas, entry); }
int memattr_xas_error(const struct xa_state *xas) { return xas_error(xas); }
void memattr_warn(void) { WARN_ON_ONCE(1); }
void memattr_cond_resched(void) { cond_resched(); }
