// libFuzzer: hostile descriptor tables, indirect tables and available rings for the broker's
// split-virtqueue walker. Every chain it accepts must lie inside guest RAM.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "broker/testing/direct_queues.hpp"

using namespace runvm::broker;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    constexpr uint16_t QUEUE = 16;
    if (size < 4) {
        return 0;
    }
    const bool event_idx = (data[0] & 1) != 0;
    auto queues = testing::DirectQueues::create(1, QUEUE, 64 * 1024, event_idx);
    if (!queues) {
        return 0;
    }
    testing::DirectQueues& q = **queues;
    testing::VirtqueueDriver& d = q.driver(0);
    testing::TestGuestMemory& ram = q.ram();
    // Input layout: avail idx, ring entries, descriptor table, then whatever follows is
    // written at the start of the free RAM (indirect tables and buffers point there).
    uint16_t avail;
    std::memcpy(&avail, data + 1, 2);
    size_t at = 3;
    for (uint16_t i = 0; i < QUEUE && at + 2 <= size; ++i, at += 2) {
        uint16_t head;
        std::memcpy(&head, data + at, 2);
        d.set_avail_entry(i, head);
    }
    const size_t table = std::min<size_t>(size - at, 16 * QUEUE);
    std::memcpy(ram.host(d.desc_gpa()), data + at, table);
    at += table;
    const uint64_t rest = ram.alloc(ram.free_bytes() - 64, 16);
    std::memcpy(ram.host(rest), data + at, std::min<size_t>(size - at, ram.free_bytes()));
    d.set_avail_idx(avail);

    Virtqueue* vq = q.queue(0);
    // Segments point into the device's own mapping of the RAM, not the driver's.
    const uint8_t* lo = q.memory().regions()[0].host;
    const uint8_t* hi = lo + q.memory().regions()[0].size;
    for (int n = 0; n < 64 && vq != nullptr; ++n) {
        auto chain = vq->pop();
        if (!chain || !chain->has_value()) {
            break;
        }
        for (const auto* part : {&(**chain).readable, &(**chain).writable}) {
            for (const Segment& s : *part) {
                if (s.host < lo || s.host + s.len > hi) {
                    __builtin_trap(); // a segment escaped guest RAM
                }
            }
        }
        uint8_t scratch[256];
        (**chain).read(0, scratch, sizeof(scratch));
        (**chain).write(0, scratch, sizeof(scratch));
        vq->add_used((**chain).head, 1);
        vq->should_notify();
    }
    if (vq != nullptr) {
        vq->enable_kicks();
    }
    return 0;
}
