package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// First is when a target first answered, counted from the moment its line was read: the
// caller writes the line right after creating the Service, so this is create → first answer.
type First struct {
	ID      string `json:"id"`
	Target  string `json:"target"`
	OK      bool   `json:"ok"`
	Millis  int64  `json:"ms"`
	Tries   int    `json:"tries"`
	Outcome string `json:"lastOutcome,omitempty"`
}

// firstAnswers reads "ID URL" lines from in; for each it GETs URL every interval (one request
// in flight per target) until a 2xx or the deadline, and prints one First per line as soon as
// it is known. Bounded: at most maxTargets lines, each polled for at most deadline.
func firstAnswers(in io.Reader, interval, deadline, timeout time.Duration, maxTargets int) {
	client := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}
	var out sync.Mutex
	var wg sync.WaitGroup
	scanner := bufio.NewScanner(in)
	for n := 0; scanner.Scan() && n < maxTargets; n++ {
		fields := strings.Fields(scanner.Text())
		if len(fields) != 2 {
			continue
		}
		start := time.Now()
		wg.Add(1)
		go func(id, url string) {
			defer wg.Done()
			res := First{ID: id, Target: url}
			for time.Since(start) < deadline {
				res.Tries++
				resp, err := client.Get(url)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode/100 == 2 {
						res.OK, res.Outcome = true, "ok"
						break
					}
					err = &statusError{resp.StatusCode}
				}
				res.Outcome = outcome(err)
				time.Sleep(interval)
			}
			res.Millis = time.Since(start).Milliseconds()
			line, _ := json.Marshal(res)
			out.Lock()
			fmt.Fprintln(os.Stdout, string(line))
			out.Unlock()
		}(fields[0], fields[1])
	}
	wg.Wait()
}
