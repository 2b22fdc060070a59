// encode_snapshot and decode_snapshot: a writer that appends, a reader that checks each take.
#include "vmm/snapshot/snapshot_file.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <type_traits>

namespace runvm::vmm::snapshot {

namespace {

constexpr char kMagic[8] = {'R', 'U', 'N', 'V', 'M', 'S', 'N', 'P'};

class Writer {
public:
    template <typename T>
    void put(const T& value) {
        static_assert(std::is_trivially_copyable_v<T>);
        const auto* p = reinterpret_cast<const uint8_t*>(&value);
        out_.insert(out_.end(), p, p + sizeof(T));
    }
    template <typename T>
    void put_list(const std::vector<T>& values) {
        put(static_cast<uint32_t>(values.size()));
        for (const T& v : values) {
            put(v);
        }
    }
    void put_bool(bool value) { put(static_cast<uint8_t>(value ? 1 : 0)); }
    std::vector<uint8_t> take() { return std::move(out_); }

private:
    std::vector<uint8_t> out_;
};

class Reader {
public:
    explicit Reader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

    template <typename T>
    Result<T> get(const char* what) {
        static_assert(std::is_trivially_copyable_v<T>);
        if (bytes_.size() - offset_ < sizeof(T)) {
            return Err(truncated(what));
        }
        T value;
        std::memcpy(&value, bytes_.data() + offset_, sizeof(T));
        offset_ += sizeof(T);
        return value;
    }

    template <typename T>
    Result<std::vector<T>> get_list(const char* what, uint32_t max) {
        const size_t at = offset_;
        RUNVM_ASSIGN_OR_RETURN(const uint32_t count, get<uint32_t>(what));
        if (count > max) {
            return Err(Error::with_errno(EINVAL, "snapshot: " + std::string(what) + " at offset " +
                                                     std::to_string(at) + ": " +
                                                     std::to_string(count) + " entries (at most " +
                                                     std::to_string(max) + ")"));
        }
        if ((bytes_.size() - offset_) / sizeof(T) < count) {
            return Err(truncated(what));
        }
        std::vector<T> values(count);
        if (count != 0) { // an empty vector's data() may be null, which memcpy may not take
            std::memcpy(values.data(), bytes_.data() + offset_, count * sizeof(T));
        }
        offset_ += count * sizeof(T);
        return values;
    }

    Result<bool> get_bool(const char* what) {
        const size_t at = offset_;
        RUNVM_ASSIGN_OR_RETURN(const uint8_t v, get<uint8_t>(what));
        if (v > 1) {
            return Err(Error::with_errno(EINVAL, "snapshot: " + std::string(what) + " at offset " +
                                                     std::to_string(at) + ": " + std::to_string(v) +
                                                     " (want 0 or 1)"));
        }
        return v == 1;
    }

    size_t offset() const { return offset_; }
    size_t left() const { return bytes_.size() - offset_; }

private:
    Error truncated(const char* what) const {
        return Error::with_errno(EINVAL, "snapshot: " + std::string(what) + " at offset " +
                                             std::to_string(offset_) + ": truncated");
    }
    std::span<const uint8_t> bytes_;
    size_t offset_ = 0;
};

Error invalid(const std::string& why) {
    return Error::with_errno(EINVAL, "snapshot: " + why);
}

Result<void> check_chip(const kvm_irqchip& chip, uint32_t want, const char* name) {
    if (chip.chip_id != want) {
        return Err(invalid(std::string(name) + ": chip_id " + std::to_string(chip.chip_id) +
                           " (want " + std::to_string(want) + ")"));
    }
    return Ok();
}

Result<VcpuState> read_vcpu(Reader& r, uint32_t index) {
    VcpuState s;
    RUNVM_ASSIGN_OR_RETURN(s.cpuid, r.get_list<kvm_cpuid_entry2>("vcpu cpuid", kMaxCpuidEntries));
    RUNVM_ASSIGN_OR_RETURN(s.mp_state, r.get<kvm_mp_state>("vcpu mp_state"));
    RUNVM_ASSIGN_OR_RETURN(s.regs, r.get<kvm_regs>("vcpu regs"));
    RUNVM_ASSIGN_OR_RETURN(s.sregs, r.get<kvm_sregs>("vcpu sregs"));
    RUNVM_ASSIGN_OR_RETURN(s.xsave, r.get<kvm::abi::Xsave>("vcpu xsave"));
    RUNVM_ASSIGN_OR_RETURN(s.xcrs, r.get<kvm_xcrs>("vcpu xcrs"));
    RUNVM_ASSIGN_OR_RETURN(s.debugregs, r.get<kvm_debugregs>("vcpu debugregs"));
    RUNVM_ASSIGN_OR_RETURN(s.lapic, r.get<kvm_lapic_state>("vcpu lapic"));
    RUNVM_ASSIGN_OR_RETURN(s.msrs, r.get_list<kvm_msr_entry>("vcpu msrs", kMaxMsrEntries));
    RUNVM_ASSIGN_OR_RETURN(s.events, r.get<kvm_vcpu_events>("vcpu events"));
    if (s.xcrs.nr_xcrs > KVM_MAX_XCRS) {
        return Err(invalid("vcpu " + std::to_string(index) + " xcrs: nr_xcrs " +
                           std::to_string(s.xcrs.nr_xcrs) + " (at most " +
                           std::to_string(KVM_MAX_XCRS) + ")"));
    }
    if (s.mp_state.mp_state > KVM_MP_STATE_AP_RESET_HOLD) {
        return Err(invalid("vcpu " + std::to_string(index) + " mp_state " +
                           std::to_string(s.mp_state.mp_state)));
    }
    return s;
}

void write_devices(Writer& w, const DevicesState& d) {
    const SerialState& s = d.serial;
    for (const uint8_t reg : {s.ier, s.lcr, s.mcr, s.scr, s.dll, s.dlm}) {
        w.put(reg);
    }
    w.put_bool(s.thr_empty_pending);
    w.put_bool(s.irq_asserted);
    w.put_list(s.rx);
    w.put(d.i8042.ctr);
    w.put(d.i8042.status);
    w.put_bool(d.i8042.expect_ctr);
    w.put_list(d.i8042.output);
    w.put_bool(d.boot_timer.fired);
    w.put(static_cast<uint32_t>(d.transports.size()));
    for (const TransportState& t : d.transports) {
        w.put(t.device_id);
        w.put(t.status);
        w.put(t.device_features_sel);
        w.put(t.driver_features_sel);
        w.put(t.driver_features);
        w.put(t.queue_sel);
        w.put(t.interrupt_status);
        w.put(t.config_generation);
        w.put_bool(t.activated);
        w.put(static_cast<uint32_t>(t.queues.size()));
        for (const QueueState& q : t.queues) {
            w.put(q.max_size);
            w.put(q.size);
            w.put_bool(q.ready);
            w.put(q.desc);
            w.put(q.driver);
            w.put(q.device);
            w.put(q.next_avail);
        }
    }
}

Result<QueueState> read_queue(Reader& r) {
    QueueState q;
    RUNVM_ASSIGN_OR_RETURN(q.max_size, r.get<uint16_t>("queue max_size"));
    const size_t size_at = r.offset();
    RUNVM_ASSIGN_OR_RETURN(q.size, r.get<uint16_t>("queue size"));
    RUNVM_ASSIGN_OR_RETURN(q.ready, r.get_bool("queue ready"));
    RUNVM_ASSIGN_OR_RETURN(q.desc, r.get<uint64_t>("queue desc"));
    RUNVM_ASSIGN_OR_RETURN(q.driver, r.get<uint64_t>("queue driver"));
    RUNVM_ASSIGN_OR_RETURN(q.device, r.get<uint64_t>("queue device"));
    const size_t next_avail_at = r.offset();
    RUNVM_ASSIGN_OR_RETURN(q.next_avail, r.get<uint16_t>("queue next_avail"));
    // What the transport's QueueNum write accepts: 0 or a power of two up to the maximum.
    if ((q.size != 0 && (q.size > q.max_size || (q.size & (q.size - 1)) != 0)) ||
        (q.ready && q.size == 0)) {
        return Err(invalid("queue size at offset " + std::to_string(size_at) + ": " +
                           std::to_string(q.size) + " (max " + std::to_string(q.max_size) +
                           (q.ready ? ", ready)" : ")")));
    }
    // A ring the driver never made ready was never started in a backend.
    if (!q.ready && q.next_avail != 0) {
        return Err(invalid("queue next_avail at offset " + std::to_string(next_avail_at) + ": " +
                           std::to_string(q.next_avail) + " on a queue that is not ready"));
    }
    return q;
}

Result<TransportState> read_transport(Reader& r) {
    TransportState t;
    RUNVM_ASSIGN_OR_RETURN(t.device_id, r.get<uint32_t>("transport device_id"));
    RUNVM_ASSIGN_OR_RETURN(t.status, r.get<uint32_t>("transport status"));
    RUNVM_ASSIGN_OR_RETURN(t.device_features_sel, r.get<uint32_t>("transport device_features_sel"));
    RUNVM_ASSIGN_OR_RETURN(t.driver_features_sel, r.get<uint32_t>("transport driver_features_sel"));
    RUNVM_ASSIGN_OR_RETURN(t.driver_features, r.get<uint64_t>("transport driver_features"));
    RUNVM_ASSIGN_OR_RETURN(t.queue_sel, r.get<uint32_t>("transport queue_sel"));
    RUNVM_ASSIGN_OR_RETURN(t.interrupt_status, r.get<uint32_t>("transport interrupt_status"));
    RUNVM_ASSIGN_OR_RETURN(t.config_generation, r.get<uint32_t>("transport config_generation"));
    RUNVM_ASSIGN_OR_RETURN(t.activated, r.get_bool("transport activated"));
    const size_t count_at = r.offset();
    RUNVM_ASSIGN_OR_RETURN(const uint32_t queues, r.get<uint32_t>("transport queue count"));
    // Each queue takes 31 bytes: a count beyond what is left is refused before any allocation.
    if (queues > kMaxTransportQueues || queues > r.left() / 31) {
        return Err(invalid("transport queue count at offset " + std::to_string(count_at) + ": " +
                           std::to_string(queues) + " (at most " +
                           std::to_string(kMaxTransportQueues) + ", " + std::to_string(r.left()) +
                           " bytes left)"));
    }
    for (uint32_t i = 0; i < queues; ++i) {
        RUNVM_ASSIGN_OR_RETURN(QueueState q, read_queue(r));
        t.queues.push_back(q);
    }
    return t;
}

Result<DevicesState> read_devices(Reader& r) {
    DevicesState d;
    SerialState& s = d.serial;
    for (uint8_t* reg : {&s.ier, &s.lcr, &s.mcr, &s.scr, &s.dll, &s.dlm}) {
        RUNVM_ASSIGN_OR_RETURN(*reg, r.get<uint8_t>("serial registers"));
    }
    RUNVM_ASSIGN_OR_RETURN(s.thr_empty_pending, r.get_bool("serial thr_empty_pending"));
    RUNVM_ASSIGN_OR_RETURN(s.irq_asserted, r.get_bool("serial irq_asserted"));
    RUNVM_ASSIGN_OR_RETURN(s.rx, r.get_list<uint8_t>("serial rx", kMaxSerialRxBytes));
    RUNVM_ASSIGN_OR_RETURN(d.i8042.ctr, r.get<uint8_t>("i8042 ctr"));
    RUNVM_ASSIGN_OR_RETURN(d.i8042.status, r.get<uint8_t>("i8042 status"));
    RUNVM_ASSIGN_OR_RETURN(d.i8042.expect_ctr, r.get_bool("i8042 expect_ctr"));
    RUNVM_ASSIGN_OR_RETURN(d.i8042.output,
                           r.get_list<uint8_t>("i8042 output", kMaxI8042OutputBytes));
    RUNVM_ASSIGN_OR_RETURN(d.boot_timer.fired, r.get_bool("boot_timer fired"));
    const size_t count_at = r.offset();
    RUNVM_ASSIGN_OR_RETURN(const uint32_t transports, r.get<uint32_t>("transport count"));
    if (transports > kMaxTransports) {
        return Err(invalid("transport count at offset " + std::to_string(count_at) + ": " +
                           std::to_string(transports) + " (at most " +
                           std::to_string(kMaxTransports) + ")"));
    }
    for (uint32_t i = 0; i < transports; ++i) {
        RUNVM_ASSIGN_OR_RETURN(TransportState t, read_transport(r));
        d.transports.push_back(std::move(t));
    }
    return d;
}

} // namespace

uint64_t snapshot_checksum(std::span<const uint8_t> bytes) {
    uint64_t h = 14695981039346656037ULL;
    for (const uint8_t b : bytes) {
        h = (h ^ b) * 1099511628211ULL;
    }
    return h;
}

std::vector<uint8_t> encode_snapshot(const Snapshot& snapshot) {
    Writer w;
    w.put(kMagic);
    w.put(kSnapshotVersion);
    w.put(static_cast<uint32_t>(snapshot.vcpus.size()));
    w.put(snapshot.memory_bytes);
    w.put(snapshot.vm.pic_master);
    w.put(snapshot.vm.pic_slave);
    w.put(snapshot.vm.ioapic);
    w.put(snapshot.vm.pit);
    w.put(snapshot.vm.clock);
    for (const VcpuState& s : snapshot.vcpus) {
        w.put_list(s.cpuid);
        w.put(s.mp_state);
        w.put(s.regs);
        w.put(s.sregs);
        w.put(s.xsave);
        w.put(s.xcrs);
        w.put(s.debugregs);
        w.put(s.lapic);
        w.put_list(s.msrs);
        w.put(s.events);
    }
    write_devices(w, snapshot.devices);
    std::vector<uint8_t> out = w.take();
    const uint64_t sum = snapshot_checksum(out);
    const auto* p = reinterpret_cast<const uint8_t*>(&sum);
    out.insert(out.end(), p, p + sizeof sum);
    return out;
}

Result<Snapshot> decode_snapshot(std::span<const uint8_t> bytes) {
    if (bytes.size() < sizeof kMagic + 2 * sizeof(uint32_t) + sizeof(uint64_t) ||
        std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
        return Err(invalid("not a runvm snapshot (no RUNVMSNP header)"));
    }
    const auto body = bytes.first(bytes.size() - sizeof(uint64_t));
    uint64_t sum = 0;
    std::memcpy(&sum, bytes.data() + body.size(), sizeof sum);
    Reader r(body);
    using Magic = std::array<char, sizeof kMagic>;
    RUNVM_TRY(r.get<Magic>("magic"));
    RUNVM_ASSIGN_OR_RETURN(const uint32_t version, r.get<uint32_t>("version"));
    if (version != kSnapshotVersion) {
        return Err(invalid("version " + std::to_string(version) + " (this runvm-vmm reads " +
                           std::to_string(kSnapshotVersion) + ")"));
    }
    if (sum != snapshot_checksum(body)) {
        return Err(invalid("checksum mismatch: the file is corrupt or truncated"));
    }
    RUNVM_ASSIGN_OR_RETURN(const uint32_t vcpus, r.get<uint32_t>("vcpu count"));
    if (vcpus == 0 || vcpus > kMaxSnapshotVcpus) {
        return Err(invalid("vcpu count " + std::to_string(vcpus) + " (want 1 to " +
                           std::to_string(kMaxSnapshotVcpus) + ")"));
    }
    Snapshot s;
    const size_t memory_at = r.offset();
    RUNVM_ASSIGN_OR_RETURN(s.memory_bytes, r.get<uint64_t>("memory bytes"));
    if (s.memory_bytes == 0 || s.memory_bytes % (2 << 20) != 0 ||
        s.memory_bytes > kMaxSnapshotMemoryBytes) {
        return Err(invalid("memory bytes at offset " + std::to_string(memory_at) + ": " +
                           std::to_string(s.memory_bytes) +
                           " (want a non-zero multiple of 2 MiB, at most 1 TiB)"));
    }
    RUNVM_ASSIGN_OR_RETURN(s.vm.pic_master, r.get<kvm_irqchip>("pic_master"));
    RUNVM_ASSIGN_OR_RETURN(s.vm.pic_slave, r.get<kvm_irqchip>("pic_slave"));
    RUNVM_ASSIGN_OR_RETURN(s.vm.ioapic, r.get<kvm_irqchip>("ioapic"));
    RUNVM_ASSIGN_OR_RETURN(s.vm.pit, r.get<kvm_pit_state2>("pit"));
    RUNVM_ASSIGN_OR_RETURN(s.vm.clock, r.get<kvm_clock_data>("clock"));
    RUNVM_TRY(check_chip(s.vm.pic_master, KVM_IRQCHIP_PIC_MASTER, "pic_master"));
    RUNVM_TRY(check_chip(s.vm.pic_slave, KVM_IRQCHIP_PIC_SLAVE, "pic_slave"));
    RUNVM_TRY(check_chip(s.vm.ioapic, KVM_IRQCHIP_IOAPIC, "ioapic"));
    for (uint32_t i = 0; i < vcpus; ++i) {
        RUNVM_ASSIGN_OR_RETURN(VcpuState v, read_vcpu(r, i));
        s.vcpus.push_back(std::move(v));
    }
    RUNVM_ASSIGN_OR_RETURN(s.devices, read_devices(r));
    if (r.left() != 0) {
        return Err(invalid(std::to_string(r.left()) + " bytes after the devices at offset " +
                           std::to_string(r.offset())));
    }
    return s;
}

} // namespace runvm::vmm::snapshot
