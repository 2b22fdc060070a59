# Tiny 64-bit guest that prints "up" and halts with interrupts off: only a stop from
# outside (SIGTERM, the control socket) ends it.
        .code64
        .globl _start
_start:
        cli
        mov     $0x3f8, %dx
        mov     $'u', %al
        out     %al, %dx
        mov     $'p', %al
        out     %al, %dx
        mov     $'\n', %al
        out     %al, %dx
1:      hlt
        jmp     1b
