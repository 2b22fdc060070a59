// A snapshot taken in the middle of a guest's work and restored into a new VM carries on
// where it stopped. A real-mode loop reads a byte from a port (the host answers the k-th read
// with k) and writes the running sum: 1, 3, 6, ... The state is saved while the 11th read is
// pending, after the host supplied 11: the read is completed first (immediate_exit), so the
// new VM, restored with a copy of the memory, writes 55 + 11 = 66, as the original does. A
// snapshot that skipped the completion would read again, get 12 and write 67.
// Needs /dev/kvm (tiny guests run on this host's kvm_pvm): exits 77 without it.
#include <fcntl.h>
#include <unistd.h>

#define BOOST_TEST_MODULE vmm_snapshot_kvm
#define BOOST_TEST_NO_MAIN
#include <cstring>

#include <boost/test/unit_test.hpp>

#include "vmm/kvm/kvm.hpp"
#include "vmm/kvm/vcpu.hpp"
#include "vmm/kvm/vm.hpp"
#include "vmm/snapshot/snapshot_file.hpp"

namespace runvm::vmm::snapshot {

namespace {

constexpr uint64_t kCodeAt = 0x1000;
constexpr uint16_t kPort = 0x3f8;
// xor bx,bx; mov dx,0x3f8; loop: in al,dx; add bl,al; mov al,bl; out dx,al; jmp loop
constexpr uint8_t kSummer[] = {0x31, 0xDB, 0xBA, 0xF8, 0x03, 0xEC, 0x00,
                               0xC3, 0x88, 0xD8, 0xEE, 0xEB, 0xF8};
constexpr uint64_t kInAt = kCodeAt + 5;

template <typename T>
T must(Result<T> r) {
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().str()));
    return std::move(*r);
}

void must(Result<void> r) {
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().str()));
}

struct TinyVm {
    kvm::Vm vm;
    GuestMemory mem;
    kvm::Vcpu vcpu;
    uint8_t reads = 0; // how many reads the host has answered

    static TinyVm make(const kvm::Kvm& k) {
        kvm::Vm vm = must(kvm::Vm::create(k));
        GuestMemory mem = must(GuestMemory::create(2 << 20));
        must(vm.map_memory(mem));
        kvm::Vcpu vcpu = must(kvm::Vcpu::create(k, vm, 0));
        must(vcpu.set_cpuid(must(k.supported_cpuid())));
        return TinyVm{std::move(vm), std::move(mem), std::move(vcpu)};
    }

    // Runs to the next exit on the port: a read is answered with the count of reads so far
    // and returns true; a write returns false with the byte in *out.
    bool next_io(uint8_t* out) {
        for (int exits = 0; exits < 100; ++exits) {
            must(vcpu.run());
            kvm_run* run = vcpu.run_page();
            if (run->exit_reason == KVM_EXIT_INTR) {
                continue;
            }
            BOOST_REQUIRE_EQUAL(run->exit_reason, static_cast<uint32_t>(KVM_EXIT_IO));
            BOOST_REQUIRE_EQUAL(run->io.port, kPort);
            uint8_t* data = reinterpret_cast<uint8_t*>(run) + run->io.data_offset;
            if (run->io.direction == KVM_EXIT_IO_IN) {
                *data = ++reads;
                return true;
            }
            *out = *data;
            return false;
        }
        BOOST_FAIL("no I/O in 100 exits");
        return false;
    }

    uint8_t next_out() {
        uint8_t out = 0;
        while (next_io(&out)) {
        }
        return out;
    }
};

template <typename T>
bool same(const T& a, const T& b) {
    return std::memcmp(&a, &b, sizeof(T)) == 0;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_restored_vm_goes_on_where_the_snapshot_stopped) {
    const kvm::Kvm k = must(kvm::Kvm::open());
    const std::vector<uint32_t> msr_list = must(k.msr_index_list());
    BOOST_TEST(!msr_list.empty());

    TinyVm a = TinyVm::make(k);
    must(a.mem.write(kCodeAt, kSummer));
    kvm_sregs sregs = must(a.vcpu.sregs());
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    must(a.vcpu.set_sregs(sregs));
    kvm_regs regs{};
    regs.rip = kCodeAt;
    regs.rflags = 2;
    must(a.vcpu.set_regs(regs));
    unsigned sum = 0;
    for (unsigned n = 1; n <= 10; ++n) {
        sum += n;
        BOOST_TEST_REQUIRE(a.next_out() == sum);
    }
    uint8_t unused = 0;
    BOOST_TEST_REQUIRE(a.next_io(&unused)); // the 11th read, answered, not yet taken in
    const kvm_regs mid_read = must(a.vcpu.regs());
    BOOST_TEST(mid_read.rip == kInAt);

    // The read completes before anything is saved: RAX holds 11, RIP is past the IN.
    must(a.vcpu.complete_pending_io());
    Snapshot snap;
    snap.memory_bytes = a.mem.ram_bytes();
    snap.vm = must(save_vm(a.vm));
    snap.vcpus.push_back(must(save_vcpu(a.vcpu, msr_list)));
    BOOST_TEST(snap.vcpus[0].regs.rip == kInAt + 1);
    BOOST_TEST((snap.vcpus[0].regs.rax & 0xff) == 11u);
    const std::vector<uint8_t> file = encode_snapshot(snap);
    std::vector<uint8_t> ram(a.mem.low_ram_end());
    must(a.mem.read(0, ram));

    TinyVm b = TinyVm::make(k);
    b.reads = a.reads; // the host's side of the conversation goes on too
    must(b.mem.write(0, ram));
    const Snapshot back = must(decode_snapshot(file));
    must(restore_vm(b.vm, back.vm));
    must(restore_vcpu(b.vcpu, back.vcpus[0]));

    // What the new vCPU holds is what was saved.
    const VcpuState now = must(save_vcpu(b.vcpu, msr_list));
    BOOST_TEST(same(now.regs, snap.vcpus[0].regs));
    BOOST_TEST(same(now.sregs, snap.vcpus[0].sregs));
    BOOST_TEST(same(now.xcrs, snap.vcpus[0].xcrs));
    BOOST_TEST(same(now.debugregs, snap.vcpus[0].debugregs));
    BOOST_TEST(same(now.mp_state, snap.vcpus[0].mp_state));
    BOOST_TEST(std::memcmp(now.xsave.region, snap.vcpus[0].xsave.region, 512) == 0); // FXSAVE area
    BOOST_TEST(now.cpuid.size() == snap.vcpus[0].cpuid.size());
    const VmState vm_now = must(save_vm(b.vm));
    BOOST_TEST(same(vm_now.pic_master, snap.vm.pic_master));
    BOOST_TEST(same(vm_now.ioapic, snap.vm.ioapic));

    for (unsigned n = 11; n <= 15; ++n) {
        sum += n;
        BOOST_TEST_REQUIRE(b.next_out() == sum); // 66 first
    }
    // The original is unharmed by the snapshot and goes on too.
    BOOST_TEST(a.next_out() == 66);
}

} // namespace runvm::vmm::snapshot

int main(int argc, char* argv[]) {
    const int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        std::printf("vmm_snapshot_kvm_test: needs /dev/kvm: skipped\n");
        return 77;
    }
    ::close(fd);
    return boost::unit_test::unit_test_main([] { return true; }, argc, argv);
}
