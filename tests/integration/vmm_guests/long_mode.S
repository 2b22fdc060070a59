# Tiny 64-bit guest: prints on COM1, reads and writes the boot timer's MMIO page (an MMIO
# exit each way), reads virtio-mmio device 0's magic when one is configured, then i8042 reset.
        .code64
        .globl _start
_start:
        lea     msg(%rip), %rsi
        call    puts
        mov     $0xd0000000, %rbx
        mov     (%rbx), %eax            # boot timer before the write: 0
        call    putdigit
        movb    $123, (%rbx)            # MMIO write of the magic
        mov     (%rbx), %eax            # after: 1
        call    putdigit
        mov     $0xd0001000, %rbx       # virtio-mmio MagicValue, or all ones when absent
        mov     (%rbx), %eax
        cmp     $0x74726976, %eax
        jne     1f
        lea     virtio(%rip), %rsi
        call    puts
        mov     8(%rbx), %eax           # DeviceID
        call    putdigit2
1:      lea     nl(%rip), %rsi
        call    puts
        mov     $0xfe, %al
        out     %al, $0x64
2:      hlt
        jmp     2b
puts:   mov     $0x3f8, %dx
3:      lodsb
        test    %al, %al
        jz      4f
        out     %al, %dx
        jmp     3b
4:      ret
putdigit2:                              # two decimal digits
        xor     %edx, %edx
        mov     $10, %ecx
        div     %ecx
        push    %rdx
        call    putdigit
        pop     %rax
putdigit:
        add     $'0', %al
        mov     $0x3f8, %dx
        out     %al, %dx
        ret
msg:    .asciz  "long mode ok mmio="
virtio: .asciz  " virtio-mmio id="
nl:     .asciz  "\n"
