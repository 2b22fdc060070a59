// BackendSession: one method per request (validation first, then the change), and the
// vring start/stop rules of vhost-user.
#include "broker/vhost_user/backend_session.hpp"

#include <cerrno>

#include <spdlog/spdlog.h>

#include "broker/vhost_user/memory_table.hpp"
#include "broker/virtio/virtio_spec.hpp"

namespace runvm::broker::vhost_user {

namespace {

std::vector<uint8_t> u64_bytes(uint64_t v) {
    std::vector<uint8_t> out(sizeof(v));
    std::memcpy(out.data(), &v, sizeof(v));
    return out;
}

Error refused(const char* what, const std::string& why, int err = EINVAL) {
    return Error::with_errno(err, std::string(what) + ": " + why);
}

Result<uint64_t> u64_payload(const Message& msg, const char* what) {
    auto v = msg.as<uint64_t>();
    if (!v) {
        return Err(
            refused(what, "payload size " + std::to_string(msg.payload.size()) + ", want 8"));
    }
    return *v;
}

Result<void> no_fds(const Message& msg, const char* what) {
    if (!msg.fds.empty()) {
        return Err(refused(what, std::to_string(msg.fds.size()) + " unexpected fds", EBADF));
    }
    return Ok();
}

} // namespace

// The prologue of the vring requests that carry a Payload (VringState, VringAddr) and no fds:
// the payload, checked for size, and the ring its index names.
template <typename Payload>
Result<std::pair<Payload, BackendSession::Vring*>> BackendSession::ring_payload(const Message& msg,
                                                                                const char* what) {
    RUNVM_TRY(no_fds(msg, what));
    auto payload = msg.as<Payload>();
    if (!payload) {
        return Err(refused(what, "payload size " + std::to_string(msg.payload.size())));
    }
    RUNVM_ASSIGN_OR_RETURN(Vring * ring, vring_for(payload->index, what));
    return std::pair<Payload, Vring*>{*payload, ring};
}

BackendSession::BackendSession(Device& device, EventLoop& loop)
    : device_(device), loop_(loop), rings_(device.queue_count()) {}

BackendSession::~BackendSession() {
    for (uint16_t i = 0; i < rings_.size(); ++i) {
        stop_ring(i);
    }
}

bool BackendSession::expects_reply(uint32_t request) {
    switch (request) {
    case GET_FEATURES:
    case GET_PROTOCOL_FEATURES:
    case GET_VRING_BASE:
    case GET_QUEUE_NUM:
    case GET_CONFIG:
        return true;
    default:
        return false;
    }
}

bool BackendSession::reply_ack_negotiated() const {
    return (acked_protocol_features_ & PROTOCOL_F_REPLY_ACK) != 0;
}

Result<BackendSession::Reply> BackendSession::handle(Message& msg) {
    const char* what = request_name(msg.header.request);
    switch (msg.header.request) {
    case GET_FEATURES:
        return on_get_features(msg, what);
    case SET_FEATURES:
        return on_set_features(msg, what);
    case GET_PROTOCOL_FEATURES:
        return on_get_protocol_features(msg, what);
    case SET_PROTOCOL_FEATURES:
        return on_set_protocol_features(msg, what);
    case GET_QUEUE_NUM:
        return on_get_queue_num(msg, what);
    case SET_OWNER:
        return on_set_owner(msg, what);
    case RESET_OWNER:
        return on_reset_owner();
    case SET_MEM_TABLE:
        return on_set_mem_table(msg);
    case SET_VRING_NUM:
        return on_set_vring_num(msg, what);
    case SET_VRING_BASE:
        return on_set_vring_base(msg, what);
    case SET_VRING_ADDR:
        return on_set_vring_addr(msg, what);
    case SET_VRING_KICK:
        return on_set_vring_kick(msg, what);
    case SET_VRING_CALL:
    case SET_VRING_ERR:
        return on_set_vring_call_or_err(msg, what);
    case SET_VRING_ENABLE:
        return on_set_vring_enable(msg, what);
    case GET_VRING_BASE:
        return on_get_vring_base(msg, what);
    case GET_CONFIG:
        return on_get_config(msg, what);
    default:
        return Err(refused(what,
                           "request " + std::to_string(msg.header.request) + " is not supported",
                           EOPNOTSUPP));
    }
}

Result<BackendSession::Reply> BackendSession::on_get_features(const Message& msg,
                                                              const char* what) {
    RUNVM_TRY(no_fds(msg, what));
    return Reply(u64_bytes(device_.features() | F_PROTOCOL_FEATURES));
}

Result<BackendSession::Reply> BackendSession::on_set_features(const Message& msg,
                                                              const char* what) {
    RUNVM_TRY(no_fds(msg, what));
    RUNVM_ASSIGN_OR_RETURN(uint64_t features, u64_payload(msg, what));
    const uint64_t offered = device_.features() | F_PROTOCOL_FEATURES;
    if ((features & ~offered) != 0) {
        return Err(
            refused(what, "bits " + std::to_string(features & ~offered) + " were not offered"));
    }
    acked_features_ = features;
    features_set_ = true;
    return Reply();
}

Result<BackendSession::Reply> BackendSession::on_get_protocol_features(const Message& msg,
                                                                       const char* what) {
    RUNVM_TRY(no_fds(msg, what));
    return Reply(u64_bytes(PROTOCOL_FEATURES_OFFERED));
}

Result<BackendSession::Reply> BackendSession::on_set_protocol_features(const Message& msg,
                                                                       const char* what) {
    RUNVM_TRY(no_fds(msg, what));
    RUNVM_ASSIGN_OR_RETURN(uint64_t features, u64_payload(msg, what));
    if ((features & ~PROTOCOL_FEATURES_OFFERED) != 0) {
        return Err(refused(what, "bits " + std::to_string(features & ~PROTOCOL_FEATURES_OFFERED) +
                                     " were not offered"));
    }
    acked_protocol_features_ = features;
    return Reply();
}

Result<BackendSession::Reply> BackendSession::on_get_queue_num(const Message& msg,
                                                               const char* what) {
    RUNVM_TRY(no_fds(msg, what));
    return Reply(u64_bytes(device_.queue_count()));
}

Result<BackendSession::Reply> BackendSession::on_set_owner(const Message& msg, const char* what) {
    RUNVM_TRY(no_fds(msg, what));
    return Reply();
}

Result<BackendSession::Reply> BackendSession::on_reset_owner() {
    disconnect();
    return Reply();
}

Result<BackendSession::Reply> BackendSession::on_set_vring_num(const Message& msg,
                                                               const char* what) {
    RUNVM_ASSIGN_OR_RETURN(const auto state_ring, ring_payload<VringState>(msg, what));
    const auto& [state, ring] = state_ring;
    const uint32_t num = state.num;
    if (num == 0 || (num & (num - 1)) != 0 || num > device_.max_queue_size()) {
        return Err(refused(what, "size " + std::to_string(num) + " (want a power of two up to " +
                                     std::to_string(device_.max_queue_size()) + ")"));
    }
    if (ring->vq) {
        return Err(refused(what, "ring " + std::to_string(state.index) + " is running", EBUSY));
    }
    ring->size = static_cast<uint16_t>(num);
    return Reply();
}

Result<BackendSession::Reply> BackendSession::on_set_vring_base(const Message& msg,
                                                                const char* what) {
    RUNVM_ASSIGN_OR_RETURN(const auto state_ring, ring_payload<VringState>(msg, what));
    const auto& [state, ring] = state_ring;
    if (ring->vq || state.num > 0xffff) {
        return Err(refused(what, "ring running or base " + std::to_string(state.num)));
    }
    ring->base = static_cast<uint16_t>(state.num);
    return Reply();
}

Result<BackendSession::Reply> BackendSession::on_set_vring_addr(const Message& msg,
                                                                const char* what) {
    RUNVM_ASSIGN_OR_RETURN(const auto addr_ring, ring_payload<VringAddr>(msg, what));
    const auto& [addr, ring] = addr_ring;
    if (ring->vq) {
        return Err(refused(what, "ring " + std::to_string(addr.index) + " is running", EBUSY));
    }
    Vring candidate;
    candidate.size = ring->size;
    candidate.desc_uva = addr.desc_user_addr;
    candidate.avail_uva = addr.avail_user_addr;
    candidate.used_uva = addr.used_user_addr;
    // Checked now so the frontend hears about a bad address at once; checked again at
    // start because the memory table may change in between.
    if (memory_ && candidate.size != 0) {
        RUNVM_TRY(layout_for(candidate, memory_.get()));
    }
    ring->desc_uva = candidate.desc_uva;
    ring->avail_uva = candidate.avail_uva;
    ring->used_uva = candidate.used_uva;
    ring->addr_set = true;
    return Reply();
}

Result<BackendSession::Reply> BackendSession::on_set_vring_kick(Message& msg, const char* what) {
    RUNVM_ASSIGN_OR_RETURN(Vring * ring, vring_fd_message(msg, what));
    if (!ring->kick.valid()) {
        return Err(refused(what, "polling mode (no kick fd) is not supported"));
    }
    const auto index = static_cast<uint16_t>(ring - rings_.data());
    auto started = start_ring(index);
    if (!started) {
        ring->kick = EventFd();
        return Err(std::move(started).error());
    }
    return Reply();
}

Result<BackendSession::Reply> BackendSession::on_set_vring_call_or_err(Message& msg,
                                                                       const char* what) {
    RUNVM_TRY(vring_fd_message(msg, what));
    return Reply();
}

Result<BackendSession::Reply> BackendSession::on_set_vring_enable(const Message& msg,
                                                                  const char* what) {
    RUNVM_ASSIGN_OR_RETURN(const auto state_ring, ring_payload<VringState>(msg, what));
    const auto& [state, ring] = state_ring;
    if (state.num > 1) {
        return Err(refused(what, "state " + std::to_string(state.num) + " (want 0 or 1)"));
    }
    ring->enabled = state.num == 1;
    if (ring->enabled && ring->vq) {
        device_.on_kick(static_cast<uint16_t>(state.index));
    }
    return Reply();
}

Result<BackendSession::Reply> BackendSession::on_get_vring_base(const Message& msg,
                                                                const char* what) {
    RUNVM_ASSIGN_OR_RETURN(const auto state_ring, ring_payload<VringState>(msg, what));
    const auto& [state, ring] = state_ring;
    const auto index = static_cast<uint16_t>(state.index);
    VringState reply{state.index, ring->vq ? ring->vq->next_avail() : ring->base};
    stop_ring(index);
    ring->base = static_cast<uint16_t>(reply.num);
    ring->stopped_at = ring->base;
    bool any_running = false;
    for (const auto& r : rings_) {
        any_running = any_running || r.vq.has_value();
    }
    // Every ring stopped is either a driver reset or a pause (a snapshot of the VM, which
    // then resumes the rings where they stopped): only the next start tells them apart.
    reset_pending_ = reset_pending_ || !any_running;
    std::vector<uint8_t> out(sizeof(reply));
    std::memcpy(out.data(), &reply, sizeof(reply));
    return Reply(std::move(out));
}

Result<BackendSession::Reply> BackendSession::on_get_config(const Message& msg, const char* what) {
    RUNVM_TRY(no_fds(msg, what));
    RUNVM_ASSIGN_OR_RETURN(auto out, get_config(msg));
    return Reply(std::move(out));
}

Result<BackendSession::Reply> BackendSession::on_set_mem_table(const Message& msg) {
    RUNVM_ASSIGN_OR_RETURN(auto memory, map_memory_table(msg));
    // Running rings hold pointers into the old table: re-translate them against the new one
    // before it goes, keeping their positions.
    std::vector<std::optional<Virtqueue>> rebuilt(rings_.size());
    for (size_t i = 0; i < rings_.size(); ++i) {
        Vring& ring = rings_[i];
        if (!ring.vq) {
            continue;
        }
        auto layout = layout_for(ring, memory.get());
        if (!layout) {
            return Err(std::move(layout).error().context("SET_MEM_TABLE: running ring " +
                                                         std::to_string(i)));
        }
        layout->next_avail = ring.vq->next_avail();
        RUNVM_ASSIGN_OR_RETURN(Virtqueue vq, Virtqueue::create(memory.get(), *layout));
        rebuilt[i] = std::move(vq);
    }
    for (size_t i = 0; i < rings_.size(); ++i) {
        if (rebuilt[i]) {
            rings_[i].retired_malformed += rings_[i].vq->stats().malformed_chains;
            rings_[i].vq = std::move(rebuilt[i]);
        }
    }
    memory_ = std::move(memory);
    size_t total = 0;
    for (const auto& r : memory_->regions()) {
        total += r.size;
    }
    spdlog::info("{}: memory table of {} regions, {} MiB", device_.name(),
                 memory_->regions().size(), total >> 20);
    return Reply();
}

Result<BackendSession::Vring*> BackendSession::vring_for(uint32_t index, const char* what) {
    if (index >= rings_.size()) {
        return Err(refused(what, "ring " + std::to_string(index) + " of " +
                                     std::to_string(rings_.size())));
    }
    return &rings_[index];
}

Result<BackendSession::Vring*> BackendSession::vring_fd_message(Message& msg, const char* what) {
    RUNVM_ASSIGN_OR_RETURN(uint64_t value, u64_payload(msg, what));
    if ((value & ~(VRING_INDEX_MASK | VRING_NOFD)) != 0) {
        return Err(refused(what, "reserved bits set"));
    }
    const bool nofd = (value & VRING_NOFD) != 0;
    if (msg.fds.size() != (nofd ? 0U : 1U)) {
        return Err(
            refused(what, std::to_string(msg.fds.size()) + " fds with NOFD=" + std::to_string(nofd),
                    EBADF));
    }
    RUNVM_ASSIGN_OR_RETURN(Vring * ring,
                           vring_for(static_cast<uint32_t>(value & VRING_INDEX_MASK), what));
    const auto index = static_cast<uint16_t>(ring - rings_.data());
    // The fd is moved out of the message only once every check passed.
    EventFd fd = nofd ? EventFd() : EventFd(std::move(msg.fds[0]));
    switch (msg.header.request) {
    case SET_VRING_KICK:
        // A new kick fd restarts the ring (the spec's "ring starts on kick").
        stop_ring(index);
        ring->kick = std::move(fd);
        break;
    case SET_VRING_CALL:
        ring->call = std::move(fd);
        break;
    default:
        ring->err = std::move(fd);
        break;
    }
    return ring;
}

Result<RingLayout> BackendSession::layout_for(const Vring& ring, const GuestMemory* memory) const {
    if (memory == nullptr) {
        return Err(refused("vring", "no memory table yet"));
    }
    if (ring.size == 0) {
        return Err(refused("vring", "no size set"));
    }
    RingLayout layout;
    layout.size = ring.size;
    layout.desc = memory->translate_user(ring.desc_uva, virtio::desc_table_bytes(ring.size));
    layout.avail = memory->translate_user(ring.avail_uva, virtio::avail_ring_bytes(ring.size));
    layout.used = memory->translate_user(ring.used_uva, virtio::used_ring_bytes(ring.size));
    if (layout.desc == nullptr || layout.avail == nullptr || layout.used == nullptr) {
        return Err(refused("vring", "ring address outside guest memory", EFAULT));
    }
    layout.event_idx = (acked_features_ & virtio::F_RING_EVENT_IDX) != 0;
    layout.indirect = (acked_features_ & virtio::F_RING_INDIRECT_DESC) != 0;
    return layout;
}

Result<void> BackendSession::start_ring(uint16_t index) {
    Vring& ring = rings_[index];
    if (!ring.addr_set) {
        return Err(refused("SET_VRING_KICK", "ring " + std::to_string(index) + " has no address"));
    }
    RUNVM_ASSIGN_OR_RETURN(RingLayout layout, layout_for(ring, memory_.get()));
    if (reset_pending_ && ring.base != ring.stopped_at) {
        // A ring started elsewhere than it stopped (a driver reset starts from 0) is a new
        // driver: the device forgets the old one's state (vsock connections, the FUSE
        // session). Rings resumed where they stopped are the same driver after a pause (a
        // snapshot of a VM that runs on), whose state must survive it.
        reset_pending_ = false;
        spdlog::info("{}: ring {} restarted at {}, stopped at {}: device reset", device_.name(),
                     index, ring.base, ring.stopped_at);
        device_.reset();
    }
    layout.next_avail = ring.base;
    RUNVM_ASSIGN_OR_RETURN(Virtqueue vq, Virtqueue::create(memory_.get(), layout));
    RUNVM_ASSIGN_OR_RETURN(ring.kick_token,
                           loop_.add(ring.kick.get(), EPOLLIN, [this, index](uint32_t) {
                               Vring& r = rings_[index];
                               r.kick.drain();
                               if (r.vq && r.enabled) {
                                   device_.on_kick(index);
                               }
                           }));
    ring.vq = std::move(vq);
    bool all_resumed = true;
    for (const auto& r : rings_) {
        all_resumed = all_resumed && (r.vq.has_value() || !r.addr_set);
    }
    reset_pending_ = reset_pending_ && !all_resumed;
    spdlog::debug("{}: ring {} started, size {}, base {}", device_.name(), index, ring.size,
                  ring.base);
    if (ring.enabled) {
        device_.on_kick(index);
    }
    return Ok();
}

void BackendSession::stop_ring(uint16_t index) {
    Vring& ring = rings_[index];
    if (ring.kick_token != 0) {
        loop_.remove(ring.kick_token);
        ring.kick_token = 0;
    }
    if (ring.vq) {
        ring.retired_malformed += ring.vq->stats().malformed_chains;
        ring.vq.reset();
    }
}

Result<std::vector<uint8_t>> BackendSession::get_config(const Message& msg) const {
    ConfigHeader head{};
    if (msg.payload.size() < sizeof(head)) {
        return Err(refused("GET_CONFIG", "payload shorter than its header"));
    }
    std::memcpy(&head, msg.payload.data(), sizeof(head));
    if (head.size > MAX_CONFIG_SIZE || msg.payload.size() != sizeof(head) + head.size) {
        return Err(refused("GET_CONFIG", "size " + std::to_string(head.size) + " in a payload of " +
                                             std::to_string(msg.payload.size())));
    }
    if (head.offset > MAX_CONFIG_SIZE || head.size > MAX_CONFIG_SIZE - head.offset) {
        return Err(refused("GET_CONFIG", "offset " + std::to_string(head.offset) +
                                             " + size past the config space"));
    }
    const std::vector<uint8_t> config = device_.config();
    std::vector<uint8_t> out(msg.payload.size(), 0);
    std::memcpy(out.data(), &head, sizeof(head));
    for (uint32_t i = 0; i < head.size; ++i) {
        const size_t at = size_t{head.offset} + i;
        if (at < config.size()) {
            out[sizeof(head) + i] = config[at];
        }
    }
    return out;
}

void BackendSession::disconnect() {
    for (uint16_t i = 0; i < rings_.size(); ++i) {
        stop_ring(i);
        rings_[i] = Vring();
    }
    device_.reset();
    reset_pending_ = false;
    memory_.reset();
    acked_features_ = 0;
    acked_protocol_features_ = 0;
    features_set_ = false;
}

Virtqueue* BackendSession::queue(uint16_t index) {
    if (index >= rings_.size()) {
        return nullptr;
    }
    Vring& ring = rings_[index];
    if (!ring.vq || !ring.enabled || ring.vq->broken()) {
        return nullptr;
    }
    return &*ring.vq;
}

void BackendSession::notify(uint16_t index) {
    if (index >= rings_.size()) {
        return;
    }
    Vring& ring = rings_[index];
    if (ring.vq && ring.call.valid() && ring.vq->should_notify()) {
        auto signalled = ring.call.signal();
        if (!signalled) {
            spdlog::warn("{}: ring {} call: {}", device_.name(), index, signalled.error().str());
        }
    }
}

uint64_t BackendSession::malformed_chains() const {
    uint64_t total = 0;
    for (const auto& r : rings_) {
        total += r.retired_malformed + (r.vq ? r.vq->stats().malformed_chains : 0);
    }
    return total;
}

} // namespace runvm::broker::vhost_user
