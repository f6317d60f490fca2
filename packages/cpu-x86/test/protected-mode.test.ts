// Protected mode has no public single-step vectors: small guests assembled by nasm enter it, run 32-bit code,
// take exceptions with their error codes through the IDT, change privilege through a TSS and come back to
// real mode, each checking its final state (SDM vol. 3A ch. 3, 5, 6, 7 and 9).
import { describe, expect, it } from 'vitest';
import { X86Cpu } from '../src/index.ts';
import { assemble } from './guests/nasm.ts';

const LOAD = 0x7c00;
/** Where each guest leaves its results. */
const RESULT = 0x6000;

/** The GDT every guest shares: flat 32-bit code and data, 16-bit code and data for the way back, then the guest's own. */
const GDT = `
align 8
gdt:
  dq 0
  dq 0x00CF9A000000FFFF   ; 08: code, 32-bit, base 0, 4 GiB
  dq 0x00CF92000000FFFF   ; 10: data, 32-bit, base 0, 4 GiB
  dq 0x00009A000000FFFF   ; 18: code, 16-bit, base 0, 64 KiB
  dq 0x000092000000FFFF   ; 20: data, 16-bit, base 0, 64 KiB
  dq 0x0040900000000FFF   ; 28: data, read-only, base 0, limit FFFh
  dq 0x00CFFA000000FFFF   ; 30: code, DPL 3
  dq 0x00CFF2000000FFFF   ; 38: data, DPL 3
tss_desc:
  dw 103, tss, 0x8900, 0  ; 40: 32-bit TSS (base below 64 KiB)
gdt_end:
gdt_desc:
  dw gdt_end - gdt - 1
  dd gdt
align 4
tss: times 104 db 0
`;

/** Real mode to 32-bit protected mode, flat segments, the stack at 90000h, then `body`. */
function guest(body: string): string {
  return `
bits 16
org ${LOAD}
  cli
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, 0x7000
  lgdt [gdt_desc]
  mov eax, cr0
  or al, 1
  mov cr0, eax
  jmp 0x08:pm32
bits 32
pm32:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov fs, ax
  mov gs, ax
  mov ss, ax
  mov esp, 0x90000
${body}
${GDT}
`;
}

function run(source: string): { cpu: X86Cpu; memory: Uint8Array; dword: (offset: number) => number } {
  const memory = new Uint8Array(4 << 20);
  memory.set(assemble(source), LOAD);
  const cpu = new X86Cpu(memory, { cs: 0, ip: LOAD });
  const result = cpu.run(10_000_000);
  expect(result.exit, JSON.stringify(cpu.fault)).toEqual({ kind: 'hlt' });
  const view = new DataView(memory.buffer);
  return { cpu, memory, dword: (offset) => view.getUint32(RESULT + offset, true) };
}

describe('x86 cpu in protected mode', () => {
  it('enters protected mode, runs 32-bit code with SIB addressing, memory past 1 MiB, far calls, MUL/DIV and REP MOVSD, and returns to real mode', () => {
    const { cpu, dword } = run(guest(`
  mov ebx, table
  mov ecx, 4
  xor eax, eax
sum:
  add eax, [ebx + ecx*4 - 4]
  loop sum
  mov [${RESULT}], eax
  mov dword [0x200000], 0xcafebabe
  mov edx, [0x200000]
  mov [${RESULT + 4}], edx
  call 0x08:farproc
  mov eax, 100000
  mov ecx, 300000
  mul ecx
  mov [${RESULT + 8}], eax
  mov [${RESULT + 12}], edx
  mov ecx, 7
  div ecx
  mov [${RESULT + 16}], eax
  mov [${RESULT + 20}], edx
  mov esi, table
  mov edi, ${RESULT + 32}
  mov ecx, 4
  cld
  rep movsd
  jmp 0x18:pm16
bits 16
pm16:
  mov ax, 0x20
  mov ds, ax
  mov ss, ax
  mov eax, cr0
  and al, 0xfe
  mov cr0, eax
  jmp 0:real
real:
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov word [${RESULT + 24}], 0x1234
  hlt
bits 32
farproc:
  mov dword [${RESULT + 28}], 0x55aa55aa
  retf
table: dd 1, 2, 3, 0x10000000
`));
    expect(dword(0)).toBe(0x1000_0006);
    expect(dword(4)).toBe(0xcafe_babe);
    const product = 100_000n * 300_000n;
    expect(dword(8)).toBe(Number(product & 0xffff_ffffn));
    expect(dword(12)).toBe(Number(product >> 32n));
    expect(dword(16)).toBe(Number(product / 7n));
    expect(dword(20)).toBe(Number(product % 7n));
    expect(dword(24) & 0xffff).toBe(0x1234);
    expect(dword(28)).toBe(0x55aa_55aa);
    expect([dword(32), dword(36), dword(40), dword(44)]).toEqual([1, 2, 3, 0x1000_0000]);
    expect(cpu.protectedMode).toBe(false);
    expect(cpu.cs).toBe(0);
  });

  it('delivers #GP, #DE, #UD and a software interrupt through the IDT with their error codes, the faulting EIP pushed', () => {
    // Each handler records the vector, the error code (or FFFFFFFFh), the pushed EIP and CS, then resumes at [resume].
    const handler = (vector: number, hasCode: boolean) => `
h${vector}:
  ${hasCode ? 'pop dword [error]' : 'mov dword [error], 0xffffffff'}
  mov dword [vector], ${vector}
  mov eax, [esp]
  mov [fault_eip], eax
  mov eax, [esp + 4]
  mov [fault_cs], eax
  call record
  mov eax, [resume]
  mov [esp], eax
  iretd`;
    const { dword } = run(guest(`
  lidt [idt_desc]
  mov edi, ${RESULT}
  mov dword [${RESULT + 0x100}], gp_at
  mov dword [${RESULT + 0x104}], ro_at
  mov dword [${RESULT + 0x108}], de_at
  mov dword [${RESULT + 0x10c}], ud_at
  mov dword [${RESULT + 0x110}], limit_at
  mov dword [${RESULT + 0x114}], after_int
  mov dword [resume], after_gp
  mov ax, 0x48              ; past the GDT's limit: #GP(48h)
gp_at:
  mov ds, ax
after_gp:
  mov dword [resume], after_ro
  mov ax, 0x28
  mov es, ax
ro_at:
  mov [es:0], eax           ; a read-only segment: #GP(0)
after_ro:
  mov ax, 0x10
  mov es, ax
  mov dword [resume], after_de
  xor edx, edx
  mov eax, 5
  xor ecx, ecx
de_at:
  div ecx                   ; #DE, no error code
after_de:
  mov dword [resume], after_ud
ud_at:
  ud2                       ; #UD
after_ud:
  mov ax, 0x28
  mov fs, ax
  mov dword [resume], after_limit
limit_at:
  mov eax, [fs:0x1000]      ; past a 4 KiB limit: #GP(0)
after_limit:
  mov dword [resume], after_int
  int 0x40                  ; a trap gate: IF kept
after_int:
  hlt
; each record: vector, error code, EIP, CS
record:                     ; (not STOSD: ES may be the read-only segment here)
  mov eax, [vector]
  mov [edi], eax
  mov eax, [error]
  mov [edi + 4], eax
  mov eax, [fault_eip]
  mov [edi + 8], eax
  mov eax, [fault_cs]
  mov [edi + 12], eax
  add edi, 16
  ret
${handler(13, true)}
${handler(0, false)}
${handler(6, false)}
${handler(0x40, false)}
vector: dd 0
error: dd 0
fault_eip: dd 0
fault_cs: dd 0
resume: dd 0
%macro gate 2
  dw (%1 - $$ + ${LOAD}) & 0xffff, 0x08, %2, (%1 - $$ + ${LOAD}) >> 16
%endmacro
align 8
idt:
  gate h0, 0x8e00
  times 5 dq 0
  gate h6, 0x8e00
  times 6 dq 0
  gate h13, 0x8e00
  times 0x40 - 14 dq 0
  gate h64, 0x8f00
idt_end:
idt_desc:
  dw idt_end - idt - 1
  dd idt
`));
    const records = Array.from({ length: 6 }, (_, i) => [dword(i * 16), dword(i * 16 + 4), dword(i * 16 + 12)]);
    expect(records).toEqual([
      [13, 0x48, 0x08],
      [13, 0, 0x08],
      [0, 0xffff_ffff, 0x08],
      [6, 0xffff_ffff, 0x08],
      [13, 0, 0x08],
      [0x40, 0xffff_ffff, 0x08],
    ]);
    // The pushed EIPs: each fault's the instruction that faulted (its first byte, prefixes included); INT n's the next.
    const eips = Array.from({ length: 6 }, (_, i) => dword(i * 16 + 8));
    expect(eips).toEqual(Array.from({ length: 6 }, (_, i) => dword(0x100 + i * 4)));
  });

  it('drops to ring 3 with IRET, comes back to ring 0 on the TSS stack for INT 80h, and takes #GP for HLT in ring 3', () => {
    const { cpu, dword } = run(guest(`
  lidt [idt_desc]
  mov dword [tss + 4], 0x80000     ; ESP0
  mov dword [tss + 8], 0x10        ; SS0
  mov ax, 0x40
  ltr ax
  push dword 0x3b                  ; SS: ring-3 data
  push dword 0x70000               ; ESP
  push dword 0x202                 ; EFLAGS: IF
  push dword 0x33                  ; CS: ring-3 code
  push dword ring3
  iretd
ring3:
  mov ax, 0x3b
  mov ds, ax
  mov dword [${RESULT}], 3
  int 0x80
  mov [${RESULT + 20}], eax        ; what the handler returned
  hlt                              ; ring 3: #GP(0)
h80:                               ; ring 0, on the TSS's stack
  mov eax, [esp + 4]               ; the caller's CS
  mov [${RESULT + 4}], eax
  mov eax, [esp + 16]              ; the caller's SS
  mov [${RESULT + 8}], eax
  mov [${RESULT + 12}], esp
  mov [${RESULT + 16}], ss
  mov eax, 0x600d
  iretd
h13:
  pop dword [${RESULT + 24}]       ; error code
  mov eax, [esp + 4]
  mov [${RESULT + 28}], eax        ; the faulting CS
  hlt                              ; ring 0: halts
%macro gate 2
  dw (%1 - $$ + ${LOAD}) & 0xffff, 0x08, %2, (%1 - $$ + ${LOAD}) >> 16
%endmacro
align 8
idt:
  times 13 dq 0
  gate h13, 0x8e00
  times 0x80 - 14 dq 0
  gate h80, 0xee00                 ; DPL 3: ring 3 may INT 80h
idt_end:
idt_desc:
  dw idt_end - idt - 1
  dd idt
`));
    expect(dword(0)).toBe(3);
    expect(dword(4)).toBe(0x33); // CS pushed with RPL 3
    expect(dword(8)).toBe(0x3b); // the ring-3 SS pushed
    expect(dword(12)).toBe(0x80000 - 20); // the TSS stack, five doublewords pushed
    expect(dword(16) & 0xffff).toBe(0x10);
    expect(dword(20)).toBe(0x600d);
    expect(dword(24)).toBe(0); // #GP(0) for HLT at CPL 3
    expect(dword(28)).toBe(0x33);
    expect(cpu.cs).toBe(0x08);
  });
});
