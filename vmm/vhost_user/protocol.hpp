// vhost-user wire format, frontend side: the shared definitions (the one copy of the
// protocol, vhost_user/protocol.hpp) plus the memory table the frontend sends whole.
#pragma once

#include <cstdint>

#include "vhost_user/protocol.hpp"

namespace runvm::vmm::vhost_user {

using ::runvm::vhost_user::ConfigHeader;
using ::runvm::vhost_user::Header;
using ::runvm::vhost_user::MemoryHeader;
using ::runvm::vhost_user::MemoryRegionDesc;
using enum ::runvm::vhost_user::Request;
using ::runvm::vhost_user::VringAddr;
using ::runvm::vhost_user::VringState;

using ::runvm::vhost_user::F_PROTOCOL_FEATURES;
using ::runvm::vhost_user::FLAG_NEED_REPLY;
using ::runvm::vhost_user::FLAG_REPLY;
using ::runvm::vhost_user::MAX_CONFIG_SIZE;
using ::runvm::vhost_user::MAX_MEM_REGIONS;
using ::runvm::vhost_user::MAX_PAYLOAD;
using ::runvm::vhost_user::PROTOCOL_F_CONFIG;
using ::runvm::vhost_user::PROTOCOL_F_MQ;
using ::runvm::vhost_user::PROTOCOL_F_REPLY_ACK;
using ::runvm::vhost_user::VERSION;

// SET_MEM_TABLE's payload as the frontend builds it: the header and every region.
struct MemoryTable {
    MemoryHeader header;
    MemoryRegionDesc regions[MAX_MEM_REGIONS];
};
static_assert(sizeof(MemoryTable) == 8 + 32 * MAX_MEM_REGIONS);

} // namespace runvm::vmm::vhost_user
