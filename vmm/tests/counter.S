# Real-mode counter guest for the snapshot test: writes 1, 2, 3, ... to COM1 as 8 hex digits
# and a newline each, with a short busy pause between lines. The count lives in RAM, so a
# restored VM only goes on counting where it stopped if its memory came back too.
        .code16
        .globl _start
_start:
        mov     %cs, %ax
        mov     %ax, %ds
next:   incl    count - _start
        mov     count - _start, %ebx
        mov     $8, %cx
        mov     $0x3f8, %dx
digit:  rol     $4, %ebx
        mov     %bl, %al
        and     $0xf, %al
        add     $'0', %al
        cmp     $'9', %al
        jbe     1f
        add     $7, %al
1:      out     %al, %dx
        loop    digit
        mov     $'\n', %al
        out     %al, %dx
        mov     $0x100, %ecx
2:      dec     %ecx
        jnz     2b
        jmp     next
        .balign 4
count:  .long   0
