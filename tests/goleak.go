// SPDX-License-Identifier: GPL-2.0
// A Go program for heaptrail's tests: prints "ready PID", then on SIGUSR1
// keeps 40 new 4 KiB-page-aligned blocks of 64 KiB, writing one byte per
// page (640 pages), prints "done" and waits for SIGTERM.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

var kept [][]byte

//go:noinline
func leakPages() {
	for i := 0; i < 40; i++ {
		b := make([]byte, 64<<10)
		for j := 0; j < len(b); j += 4096 {
			b[j] = 1
		}
		kept = append(kept, b)
	}
}

func main() {
	usr1 := make(chan os.Signal, 1)
	term := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	signal.Notify(term, syscall.SIGTERM)
	fmt.Printf("ready %d\n", os.Getpid())
	<-usr1
	leakPages()
	fmt.Println("done")
	<-term
}
