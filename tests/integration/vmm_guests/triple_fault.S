# Tiny 64-bit guest that faults with an empty IDT: #BP -> #GP -> #DF -> triple fault.
        .code64
        .globl _start
_start:
        mov     $0x3f8, %dx
        mov     $'!', %al
        out     %al, %dx
        int3
1:      hlt
        jmp     1b
