// interop-go-client runs the interop scenarios (or, with -bench, a throughput run) against a
// runvm.interop.v1.Echo ttrpc server on a Unix socket; exits non-zero on any mismatch.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/containerd/ttrpc"
)

func main() {
	socket := flag.String("socket", "", "Unix socket path of the server")
	bench := flag.Bool("bench", false, "measure throughput instead of running the scenarios")
	conns := flag.Int("conns", 1, "bench: connections")
	callers := flag.Int("callers", 4, "bench: sequential callers per connection")
	duration := flag.Duration("duration", 3*time.Second, "bench: how long to call")
	payload := flag.Int("payload", 64, "bench: Echo payload bytes")
	flag.Parse()
	if *socket == "" {
		fmt.Fprintln(os.Stderr, "interop-go-client: -socket is required")
		os.Exit(2)
	}

	if *bench {
		cfg := benchConfig{*socket, *conns, *callers, *duration, *payload}
		if err := runBench(cfg); err != nil {
			fmt.Fprintf(os.Stderr, "interop-go-client: bench: %v\n", err)
			os.Exit(1)
		}
		return
	}

	conn, err := net.DialTimeout("unix", *socket, 5*time.Second)
	if err != nil {
		fmt.Fprintf(os.Stderr, "interop-go-client: connect %s: %v\n", *socket, err)
		os.Exit(1)
	}
	client := ttrpc.NewClient(conn)
	defer client.Close()

	failed := 0
	for _, s := range scenarios {
		start := time.Now()
		if err := s.run(client); err != nil {
			fmt.Printf("FAIL %s: %v\n", s.name, err)
			failed++
			continue
		}
		fmt.Printf("PASS %s (%v)\n", s.name, time.Since(start).Round(time.Millisecond))
	}
	if failed > 0 {
		fmt.Printf("interop-go-client: %d of %d scenarios failed\n", failed, len(scenarios))
		client.Close()
		os.Exit(1)
	}
	fmt.Printf("interop-go-client: all %d scenarios passed\n", len(scenarios))
}
