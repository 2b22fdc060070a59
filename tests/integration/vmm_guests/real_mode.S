# Tiny real-mode guest: "real mode ok" on COM1, the boot-timer port, then i8042 reset.
        .code16
        .globl _start
_start:
        mov     $0x3f8, %dx
        mov     $msg - _start, %si
        mov     %cs, %ax
        mov     %ax, %ds
1:      lodsb
        test    %al, %al
        jz      2f
        out     %al, %dx
        jmp     1b
2:      mov     $0x440, %dx
        mov     $123, %al
        out     %al, %dx
        mov     $0xfe, %al
        out     %al, $0x64
3:      hlt
        jmp     3b
msg:    .asciz  "real mode ok\n"
