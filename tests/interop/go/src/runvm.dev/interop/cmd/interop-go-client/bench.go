// Throughput and latency of unary Echo calls: conns connections, callers goroutines on each
// doing sequential calls for a fixed duration; prints one BENCH line for scripts/bench/ttrpc.sh.
package main

import (
	"context"
	"fmt"
	"net"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/ttrpc"
)

type benchConfig struct {
	socket   string
	conns    int
	callers  int
	duration time.Duration
	payload  int
}

func runBench(cfg benchConfig) error {
	clients := make([]*ttrpc.Client, cfg.conns)
	for i := range clients {
		conn, err := net.DialTimeout("unix", cfg.socket, 5*time.Second)
		if err != nil {
			return fmt.Errorf("connect %s: %v", cfg.socket, err)
		}
		clients[i] = ttrpc.NewClient(conn)
		defer clients[i].Close()
	}
	payload := pattern(cfg.payload, 0x42)
	// One warm-up call per connection, so connection setup is not timed.
	for _, c := range clients {
		if err := echoWithTimeout(c, payload); err != nil {
			return fmt.Errorf("warm-up: %v", err)
		}
	}

	total := cfg.conns * cfg.callers
	latencies := make([][]time.Duration, total)
	errs := make([]error, total)
	var wg sync.WaitGroup
	cpuStart := processCPU()
	start := time.Now()
	stop := start.Add(cfg.duration)
	for i := 0; i < total; i++ {
		wg.Add(1)
		go func(i int, c *ttrpc.Client) {
			defer wg.Done()
			own := make([]time.Duration, 0, 1<<16)
			for time.Now().Before(stop) {
				t0 := time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
				err := callEcho(c, ctx, payload)
				cancel()
				if err != nil {
					errs[i] = err
					return
				}
				own = append(own, time.Since(t0))
			}
			latencies[i] = own
		}(i, clients[i%cfg.conns])
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU() - cpuStart
	for _, err := range errs {
		if err != nil {
			return err
		}
	}

	var all []time.Duration
	for _, l := range latencies {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return fmt.Errorf("no call completed in %v", cfg.duration)
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	percentile := func(p float64) float64 {
		return float64(all[int(p*float64(len(all)-1))].Nanoseconds()) / 1000
	}
	fmt.Printf("BENCH client=go conns=%d callers=%d calls=%d rps=%.0f p50_us=%.1f p99_us=%.1f client_cpu_us=%.0f\n",
		cfg.conns, cfg.callers, len(all), float64(len(all))/elapsed.Seconds(),
		percentile(0.50), percentile(0.99), float64(cpu.Microseconds()))
	return nil
}

// processCPU is the user plus system time this process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
