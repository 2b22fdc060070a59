// FuseTestClient: request framing on the driver side and reply parsing.
#include "broker/devices/fs/fs_test_client.hpp"

#include <fcntl.h>

namespace runvm::broker::fs::testing {

Result<std::unique_ptr<FuseTestClient>> FuseTestClient::create(const FsOptions& options) {
    std::unique_ptr<FuseTestClient> c(new FuseTestClient());
    RUNVM_ASSIGN_OR_RETURN(c->device_, FsDevice::open(options));
    RUNVM_ASSIGN_OR_RETURN(c->queues_,
                           runvm::broker::testing::DirectQueues::create(2, 256, 64 << 20, true));
    RUNVM_TRY(c->device_->attach(c->queues_.get(), nullptr));
    return c;
}

FuseAnswer FuseTestClient::raw(const std::vector<uint8_t>& readable, uint32_t out_room,
                               uint16_t queue, int split) {
    auto& ram = queues_->ram();
    auto& driver = queues_->driver(queue);
    std::vector<runvm::broker::testing::DriverBuffer> bufs;
    const size_t parts =
        std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(split), readable.size()));
    size_t at = 0;
    for (size_t i = 0; i < parts && !readable.empty(); ++i) {
        const size_t len = i + 1 == parts ? readable.size() - at : readable.size() / parts;
        const uint64_t gpa = ram.alloc(len + 1);
        std::memcpy(ram.host(gpa), readable.data() + at, len);
        bufs.push_back({gpa, static_cast<uint32_t>(len), false});
        at += len;
    }
    uint64_t out = 0;
    if (out_room > 0) {
        out = ram.alloc(out_room);
        std::memset(ram.host(out), 0xee, out_room);
        bufs.push_back({out, out_room, true});
    }
    FuseAnswer a;
    if (!driver.add(bufs).has_value()) {
        return a;
    }
    driver.publish();
    device_->on_kick(queue);
    auto used = driver.take_used();
    if (!used) {
        return a;
    }
    a.used = used->len;
    if (out_room >= sizeof(fuse_out_header) && used->len >= sizeof(fuse_out_header)) {
        fuse_out_header h{};
        std::memcpy(&h, ram.host(out), sizeof(h));
        a.answered = true;
        a.error = -h.error;
        a.unique = h.unique;
        const size_t n = std::min<size_t>(h.len, used->len);
        if (n > sizeof(h)) {
            a.data.assign(ram.host(out) + sizeof(h), ram.host(out) + n);
        }
    }
    return a;
}

FuseAnswer FuseTestClient::call(uint32_t opcode, uint64_t nodeid, const FuseArgs& args,
                                uint32_t out_room, uint32_t uid, uint32_t gid) {
    fuse_in_header h{};
    h.len = static_cast<uint32_t>(sizeof(h) + args.bytes().size());
    h.opcode = opcode;
    h.unique = unique_++;
    h.nodeid = nodeid;
    h.uid = uid;
    h.gid = gid;
    std::vector<uint8_t> req(sizeof(h));
    std::memcpy(req.data(), &h, sizeof(h));
    req.insert(req.end(), args.bytes().begin(), args.bytes().end());
    return raw(req, out_room, opcode == FUSE_FORGET || opcode == FUSE_BATCH_FORGET ? 0 : 1);
}

FuseAnswer FuseTestClient::init() {
    fuse_init_in in{};
    in.major = FUSE_KERNEL_VERSION;
    in.minor = 36; // Linux 6.1, the guest kernel
    in.max_readahead = 128 << 10;
    in.flags = 0xffffffff;
    return call(FUSE_INIT, 0, FuseArgs().add(in));
}

FuseAnswer FuseTestClient::create(uint64_t parent, const std::string& name, uint32_t flags,
                                  uint32_t mode, uint32_t uid, uint32_t gid) {
    fuse_create_in in{};
    in.flags = flags;
    in.mode = mode;
    return call(FUSE_CREATE, parent, FuseArgs().add(in).str(name), 8192, uid, gid);
}

FuseAnswer FuseTestClient::open(uint64_t node, uint32_t flags, bool dir) {
    fuse_open_in in{};
    in.flags = flags;
    return call(dir ? FUSE_OPENDIR : FUSE_OPEN, node, FuseArgs().add(in));
}

FuseAnswer FuseTestClient::write(uint64_t node, uint64_t fh, uint64_t offset,
                                 const std::string& data) {
    fuse_write_in in{};
    in.fh = fh;
    in.offset = offset;
    in.size = static_cast<uint32_t>(data.size());
    return call(FUSE_WRITE, node, FuseArgs().add(in).raw(data));
}

FuseAnswer FuseTestClient::read(uint64_t node, uint64_t fh, uint64_t offset, uint32_t size) {
    fuse_read_in in{};
    in.fh = fh;
    in.offset = offset;
    in.size = size;
    return call(FUSE_READ, node, FuseArgs().add(in),
                static_cast<uint32_t>(size + sizeof(fuse_out_header)));
}

FuseAnswer FuseTestClient::release(uint64_t node, uint64_t fh, bool dir) {
    fuse_release_in in{};
    in.fh = fh;
    return call(dir ? FUSE_RELEASEDIR : FUSE_RELEASE, node, FuseArgs().add(in));
}

FuseAnswer FuseTestClient::readdir(uint64_t node, uint64_t fh, uint64_t offset, uint32_t size,
                                   bool plus) {
    fuse_read_in in{};
    in.fh = fh;
    in.offset = offset;
    in.size = size;
    return call(plus ? FUSE_READDIRPLUS : FUSE_READDIR, node, FuseArgs().add(in),
                static_cast<uint32_t>(size + sizeof(fuse_out_header)));
}

} // namespace runvm::broker::fs::testing
