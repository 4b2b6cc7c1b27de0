// SPDX-License-Identifier: GPL-2.0

//! memattr-vmm-demo: a tiny VMM on rust-vmm's kvm-ioctls and the kvm-memattr
//! crate, run inside the test guest by `make run`.
//!
//! Its real-mode guest, on a software-protected VM:
//! 1. writes to a page the VMM made `NW`: the VMM decodes the exit, logs it
//!    and allows the write once (clears `NW`, re-protects afterwards);
//! 2. calls into a page the VMM made `NX`: the VMM allows it (clears `NX`);
//! 3. converts a page to private and back with `KVM_HC_MAP_GPA_RANGE`
//!    hypercalls, which the VMM turns into `KVM_SET_MEMORY_ATTRIBUTES`;
//!
//! and the VMM dumps the attribute map as runs. Exit status 0 only if every
//! expected event happened, in order.

use std::process::ExitCode;

use kvm_bindings::{kvm_enable_cap, kvm_userspace_memory_region};
use kvm_ioctls::{Kvm, VcpuExit, VmFd};
use kvm_memattr::{runs, Access, Attributes, MemoryFault, PAGE_SIZE};

const KVM_X86_SW_PROTECTED_VM: u64 = 1;
const KVM_HC_MAP_GPA_RANGE: u64 = 12;
const KVM_MAP_GPA_RANGE_ENCRYPTED: u64 = 1 << 4;
const MEM_SIZE: usize = 0x10000;

const CODE: u64 = 0x1000;
const NW_PAGE: u64 = 0x2000;
const NX_PAGE: u64 = 0x3000;
const CONV_PAGE: u64 = 0x4000;

/// 16-bit real-mode guest at `CODE` (DS = SS = 0, SP = 0x8000).
#[rustfmt::skip]
const GUEST: &[u8] = &[
    0xc6, 0x06, 0x00, 0x20, 0x42,       // mov byte [0x2000], 0x42   (NW page)
    0xb0, 0x01, 0xe6, 0x10,             // mov al, 1; out 0x10, al   checkpoint 1
    0xe8, 0xf4, 0x1f,                   // call 0x3000               (NX page)
    0xb0, 0x02, 0xe6, 0x10,             // mov al, 2; out 0x10, al   checkpoint 2
    0x66, 0xb8, 0x0c, 0x00, 0x00, 0x00, // mov eax, KVM_HC_MAP_GPA_RANGE
    0x66, 0xbb, 0x00, 0x40, 0x00, 0x00, // mov ebx, 0x4000
    0x66, 0xb9, 0x01, 0x00, 0x00, 0x00, // mov ecx, 1 page
    0x66, 0xba, 0x10, 0x00, 0x00, 0x00, // mov edx, ENCRYPTED
    0x0f, 0x01, 0xd9,                   // vmmcall
    0xb0, 0x03, 0xe6, 0x10,             // mov al, 3; out 0x10, al   checkpoint 3
    0x66, 0xb8, 0x0c, 0x00, 0x00, 0x00, // mov eax, KVM_HC_MAP_GPA_RANGE
    0x66, 0xbb, 0x00, 0x40, 0x00, 0x00, // mov ebx, 0x4000
    0x66, 0xb9, 0x01, 0x00, 0x00, 0x00, // mov ecx, 1 page
    0x66, 0xba, 0x00, 0x00, 0x00, 0x00, // mov edx, DECRYPTED
    0x0f, 0x01, 0xd9,                   // vmmcall
    0xb0, 0x04, 0xe6, 0x10,             // mov al, 4; out 0x10, al   checkpoint 4
    0xf4,                               // hlt
];

/// At `NX_PAGE`: mov al, 0x33; out 0x11, al; ret
const NX_CODE: &[u8] = &[0xb0, 0x33, 0xe6, 0x11, 0xc3];

#[derive(Debug, PartialEq, Eq)]
enum Event {
    WriteDenied(u64),
    ExecDenied(u64),
    NxCodeRan,
    Checkpoint(u8),
    Converted(u64, Attributes),
    Halted,
}

fn say(msg: impl AsRef<str>) {
    println!("[vmm] {}", msg.as_ref());
}

fn dump(vm: &VmFd) -> Result<(), String> {
    say("attribute map, walked with KVM_GET_MEMORY_ATTRIBUTES:");
    for run in runs(vm, 0, MEM_SIZE as u64) {
        let run = run.map_err(|e| format!("GET failed: {e}"))?;
        say(format!(
            "    [{:#07x}, {:#07x})  {:<8} ({} pages)",
            run.gpa,
            run.end(),
            run.attrs.to_string(),
            run.size / PAGE_SIZE
        ));
    }
    Ok(())
}

fn set(vm: &VmFd, gpa: u64, attrs: Attributes, why: &str) -> Result<(), String> {
    kvm_memattr::set(vm, gpa, PAGE_SIZE, attrs)
        .map_err(|e| format!("SET [{gpa:#x}, +4 KiB) = {attrs}: {e}"))?;
    say(format!(
        "KVM_SET_MEMORY_ATTRIBUTES [{gpa:#x}, +4 KiB) = {attrs}  ({why})"
    ));
    Ok(())
}

fn run() -> Result<Vec<Event>, String> {
    let kvm = Kvm::new().map_err(|e| format!("/dev/kvm: {e}"))?;
    let vm = kvm
        .create_vm_with_type(KVM_X86_SW_PROTECTED_VM)
        .map_err(|e| format!("cannot create a software-protected VM: {e}"))?;
    let caps = kvm_memattr::supported(&vm);
    say(format!("software-protected VM created; it accepts: {caps}"));
    if !caps.contains(Attributes::NW | Attributes::NX | Attributes::PRIVATE) {
        return Err("this kernel does not enforce NW/NX (is kvm_memattr loaded?)".into());
    }

    // SAFETY: an anonymous private mapping, owned by this process until exit.
    let mem = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            MEM_SIZE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if mem == libc::MAP_FAILED {
        return Err("mmap failed".into());
    }
    let mem = mem as *mut u8;
    // SAFETY: both copies stay inside the MEM_SIZE bytes mapped above.
    unsafe {
        std::ptr::copy_nonoverlapping(GUEST.as_ptr(), mem.add(CODE as usize), GUEST.len());
        std::ptr::copy_nonoverlapping(NX_CODE.as_ptr(), mem.add(NX_PAGE as usize), NX_CODE.len());
    }
    let region = kvm_userspace_memory_region {
        slot: 0,
        guest_phys_addr: 0,
        memory_size: MEM_SIZE as u64,
        userspace_addr: mem as u64,
        flags: 0,
    };
    // SAFETY: the region is mapped, sized as declared and outlives the VM.
    unsafe { vm.set_user_memory_region(region) }.map_err(|e| format!("memslot: {e}"))?;
    let mut cap = kvm_enable_cap {
        cap: kvm_bindings::KVM_CAP_EXIT_HYPERCALL,
        ..Default::default()
    };
    cap.args[0] = 1 << KVM_HC_MAP_GPA_RANGE;
    vm.enable_cap(&cap)
        .map_err(|e| format!("KVM_CAP_EXIT_HYPERCALL: {e}"))?;

    let mut vcpu = vm.create_vcpu(0).map_err(|e| format!("vCPU: {e}"))?;
    let mut sregs = vcpu.get_sregs().map_err(|e| e.to_string())?;
    for seg in [&mut sregs.cs, &mut sregs.ds, &mut sregs.es, &mut sregs.ss] {
        seg.base = 0;
        seg.selector = 0;
    }
    vcpu.set_sregs(&sregs).map_err(|e| e.to_string())?;
    let mut regs = vcpu.get_regs().map_err(|e| e.to_string())?;
    regs.rip = CODE;
    regs.rsp = 0x8000;
    regs.rflags = 2;
    vcpu.set_regs(&regs).map_err(|e| e.to_string())?;

    set(&vm, NW_PAGE, Attributes::NW, "write-protect a data page")?;
    set(&vm, NX_PAGE, Attributes::NX, "no-execute a code page")?;
    dump(&vm)?;

    let mut events = Vec::new();
    let mut reprotect = None;
    loop {
        let exit = vcpu.run().map_err(|e| format!("KVM_RUN: {e}"))?;
        match exit {
            VcpuExit::MemoryFault { flags, gpa, size } => {
                let fault = MemoryFault::decode(flags, gpa, size);
                say(format!("guest exit: KVM_EXIT_MEMORY_FAULT: {fault}"));
                match fault {
                    MemoryFault::Denied {
                        access: Access::Write,
                        gpa,
                        ..
                    } if gpa == NW_PAGE => {
                        events.push(Event::WriteDenied(gpa));
                        set(&vm, gpa, Attributes::NONE, "log and allow this write once")?;
                        reprotect = Some(gpa);
                    }
                    MemoryFault::Denied {
                        access: Access::Exec,
                        gpa,
                        ..
                    } if gpa == NX_PAGE => {
                        events.push(Event::ExecDenied(gpa));
                        set(&vm, gpa, Attributes::NONE, "allow: the code was vetted")?;
                    }
                    other => return Err(format!("unexpected memory fault: {other}")),
                }
            }
            VcpuExit::IoOut(0x10, data) => {
                let n = data.first().copied().unwrap_or(0);
                say(format!("guest checkpoint {n}"));
                events.push(Event::Checkpoint(n));
                if let Some(gpa) = reprotect.take() {
                    set(
                        &vm,
                        gpa,
                        Attributes::NW,
                        "the write went through; protect again",
                    )?;
                    // SAFETY: NW_PAGE lies inside the mapping.
                    let byte = unsafe { *mem.add(gpa as usize) };
                    say(format!("    the page now holds {byte:#x}"));
                }
            }
            VcpuExit::IoOut(0x11, _) => {
                say("guest ran the code in the formerly no-execute page");
                events.push(Event::NxCodeRan);
            }
            VcpuExit::Hypercall(hc) if hc.nr == KVM_HC_MAP_GPA_RANGE => {
                let (gpa, npages, flags) = (hc.args[0], hc.args[1], hc.args[2]);
                let attrs = if flags & KVM_MAP_GPA_RANGE_ENCRYPTED != 0 {
                    Attributes::PRIVATE
                } else {
                    Attributes::NONE
                };
                say(format!(
                    "guest hypercall KVM_HC_MAP_GPA_RANGE: {npages} page(s) at {gpa:#x} -> {attrs}"
                ));
                let r = kvm_memattr::set(&vm, gpa, npages * PAGE_SIZE, attrs);
                *hc.ret = match &r {
                    Ok(()) => 0,
                    Err(e) => -(e.errno() as i64) as u64,
                };
                r.map_err(|e| format!("conversion failed: {e}"))?;
                events.push(Event::Converted(gpa, attrs));
                if attrs == Attributes::PRIVATE {
                    dump(&vm)?;
                }
            }
            VcpuExit::Hlt => {
                say("guest halted");
                events.push(Event::Halted);
                break;
            }
            other => return Err(format!("unexpected exit: {other:?}")),
        }
    }
    dump(&vm)?;
    Ok(events)
}

fn main() -> ExitCode {
    let expected = vec![
        Event::WriteDenied(NW_PAGE),
        Event::Checkpoint(1),
        Event::ExecDenied(NX_PAGE),
        Event::NxCodeRan,
        Event::Checkpoint(2),
        Event::Converted(CONV_PAGE, Attributes::PRIVATE),
        Event::Checkpoint(3),
        Event::Converted(CONV_PAGE, Attributes::NONE),
        Event::Checkpoint(4),
        Event::Halted,
    ];
    match run() {
        Ok(events) if events == expected => {
            say("all expected events happened");
            ExitCode::SUCCESS
        }
        Ok(events) => {
            say(format!(
                "events differ from the plan:\n  got      {events:?}\n  expected {expected:?}"
            ));
            ExitCode::FAILURE
        }
        Err(e) => {
            say(format!("error: {e}"));
            ExitCode::FAILURE
        }
    }
}
