/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Return addresses hidden by return probes. A uretprobe (ours during the
 * growth mode's allocation windows or an outer allocator call, or any other
 * tool's) replaces the return address of the probed function's frame with
 * the address of the kernel's trampoline (the start of the [uprobes]
 * mapping, mm->uprobes_state.xol_area->vaddr). The kernel keeps the real
 * one per thread in utask->return_instances, innermost first, each with
 * the stack address of the slot it replaced (the stack pointer at the
 * probed function's entry). A stack walk that meets the trampoline takes
 * the real return address from there and goes on.
 *
 * Kernel memory read with CO-RE: fields absent from the running kernel
 * (no uprobes, a layout without `stack`) turn the lookups into "none" or
 * the kernel's own order (the n-th pending instance for the n-th
 * trampoline met, as its perf callchain code does).
 *
 * Needs only vmlinux.h and records.h: included before the walkers.
 */
#ifndef URET_BPF_H
#define URET_BPF_H

/* Pending return probes looked through: the kernel allows 64 nested. */
#define URET_MAX 64

/* A word of kernel memory, 0 when unreadable. Addresses of fields of the
 * kernel's types (vmlinux.h marks them preserve_access_index): CO-RE
 * relocates their offsets. One stack slot for every read: the walk's
 * callback calls uret_orig with the program's stack nearly all taken. */
static __always_inline __u64 uret_word(const void *kaddr)
{
	__u64 v = 0;
	bpf_probe_read_kernel(&v, sizeof(v), kaddr);
	return v;
}

/* The thread's newest pending return instance, or NULL. */
static __always_inline struct return_instance *uret_first(struct task_struct *task)
{
	if (!bpf_core_field_exists(task->utask))
		return NULL;
	struct uprobe_task *ut = (void *)uret_word(&task->utask);
	return ut ? (void *)uret_word(&ut->return_instances) : NULL;
}

/* The trampoline's address in the thread's process, or 0. */
static __always_inline __u64 uret_tramp(struct task_struct *task)
{
	if (!bpf_core_field_exists(task->mm->uprobes_state))
		return 0;
	struct mm_struct *mm = (void *)uret_word(&task->mm);
	struct xol_area *area = mm ? (void *)uret_word(&mm->uprobes_state.xol_area) : NULL;
	return area ? uret_word(&area->vaddr) : 0;
}

/* The trampoline's address in this thread's process, or 0. A global
 * function, like those below: verified once. */
__noinline __u64 uret_trampoline(void)
{
	return uret_tramp((struct task_struct *)bpf_get_current_task());
}

/* The return address the trampoline replaced in the stack slot `slot`:
 * the pending instance's of that slot, or, without slots in this kernel,
 * the nth pending one's. 0 when none matches (one a longjmp left behind
 * is older than the frame and skipped; a slot passed means the frame is
 * not a probed one's). */
__noinline __u64 uret_orig(__u64 slot, __u32 nth)
{
	struct return_instance *ri = uret_first((struct task_struct *)bpf_get_current_task());
	if (!ri)
		return 0;
	bool by_slot = bpf_core_field_exists(ri->stack);
	for (__u32 i = 0; i < URET_MAX && ri; i++) {
		if (by_slot) {
			__u64 at = uret_word(&ri->stack);
			if (at > slot)
				return 0;
			if (at == slot)
				return uret_word(&ri->orig_ret_vaddr);
		} else if (i == nth) {
			return uret_word(&ri->orig_ret_vaddr);
		}
		ri = (void *)uret_word(&ri->next);
	}
	return 0;
}

/* A thread stopped in the trampoline's own code (a signal delivered on
 * its way through): the probed function has returned, and the stack slot
 * of its return address is found from the code at pc. Register pops up to
 * the ret: the kernel has put the return address back on the stack, at
 * sp + 8 per pop: that slot | 1. Else, register pushes or a move ahead of
 * the call into the kernel (syscall, or int3 on kernels without the
 * uretprobe syscall): the return address is still pending, in the
 * innermost instance, whose slot lies within the pushes above sp: that
 * slot. 0 otherwise (code unreadable or not like this). */
static __always_inline __u8 uret_byte(__u64 lo, __u64 hi, __u32 i)
{
	return (__u8)(i < 8 ? lo >> (8 * i) : hi >> (8 * (i & 7)));
}

__noinline __u64 uret_tramp_slot(__u64 pc, __u64 sp)
{
	/* the code in registers: the stack slot is free for the reads below
	 * (this frame must stay small: see uret_word) */
	__u64 c[2];
	if (bpf_probe_read_user(c, sizeof(c), (void *)pc))
		return 0;
	__u64 lo = c[0], hi = c[1];
	__u32 i = 0, pops = 0;
	for (int k = 0; k < 6; k++) {
		__u8 b = uret_byte(lo, hi, i);
		if (b == 0x41) /* REX.B: %r8-%r15 */
			b = uret_byte(lo, hi, ++i);
		if (b < 0x58 || b > 0x5f)
			break;
		pops++;
		i++;
	}
	__u8 b = uret_byte(lo, hi, i);
	if (b == 0xc3)
		return (sp + 8 * pops) | 1;
	/* push, REX.W mov, mov $imm32 %eax, syscall, int3 */
	if (pops || !((b >= 0x50 && b <= 0x57) || b == 0x41 || b == 0x48 || b == 0xb8 ||
		      b == 0x0f || b == 0xcc))
		return 0;
	struct return_instance *ri = uret_first((struct task_struct *)bpf_get_current_task());
	if (!ri || !bpf_core_field_exists(ri->stack))
		return 0;
	__u64 at = uret_word(&ri->stack);
	return at + 8 >= sp && at <= sp + 16 && !(at & 7) ? at : 0;
}

/* The frame-pointer walk (unwind.bpf.h) knows no slots: there every
 * trampoline in ips[1..n) takes the next pending instance, innermost
 * first, as the kernel's callchain code does, from the first one not
 * older than the stack pointer sp (a longjmp out of a probed function
 * leaves its instance pending below sp). A global function, verified once
 * (its small frame: the program's stack is nearly all taken); returns 0. */
__noinline int uret_fix_ips(struct lb_alloc_event *e, long n, __u64 sp)
{
	if (!e || n < 2)
		return 0;
	struct task_struct *task = (void *)bpf_get_current_task();
	struct return_instance *ri = uret_first(task);
	__u64 tramp = ri ? uret_tramp(task) : 0;
	if (!tramp)
		return 0;
	for (int j = 0; j < URET_MAX && ri; j++) {
		if (!bpf_core_field_exists(ri->stack) || uret_word(&ri->stack) >= sp)
			break;
		ri = (void *)uret_word(&ri->next);
	}
	for (int k = 1; k < LB_MAX_NATIVE && ri; k++) {
		if (k >= n)
			break;
		if (e->ips[k] != tramp)
			continue;
		e->ips[k] = uret_word(&ri->orig_ret_vaddr);
		ri = (void *)uret_word(&ri->next);
	}
	return 0;
}

#endif
