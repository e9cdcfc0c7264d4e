// Command ratios reads `go test -bench` output of the bench package and
// prints, per case, the SDK's figures as ratios against the floor, against
// ory/client-go and against ogen's client, measured in the same run:
//
//	go run ./cmd/ratios [-check] [-transport memory] results.txt
//
// The input holds one or more rounds; a round is one run of every
// benchmark, so that the three implementations of a case ran back to back.
// Each ratio is computed within a round (sdk in round k against floor in
// round k) and the table shows the median over the rounds, with the
// interquartile range of the time ratios, which tells how noisy the machine
// was. The targets
// are judged on the medians; with -check a missed target makes it exit 1.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Targets for the SDK.
const (
	maxTimeVsFloor   = 1.10
	maxAllocsVsFloor = 1.25
	maxTimeVsOry     = 1.00 // strictly faster
	maxTimeVsOgen    = 1.00 // at most ogen's time on every case
	maxAllocsVsOgen  = 1.00 // at most ogen's allocated objects
	maxBytesVsFloor  = 1.00 // at most encoding/json's bytes (the SDK's before its codecs)
)

// maxTimeVsOgenInMemory is the tighter target on the list cases without a
// network, where decoding is most of the work.
var maxTimeVsOgenInMemory = map[string]float64{"ListIdentitiesPage": 0.90, "WalkIdentities": 0.90}

// result is one line: the figures by unit.
type result map[string]float64

// runs holds, by case and implementation, the results in input order.
type runs map[string]map[string][]result

var line = regexp.MustCompile(`^Benchmark([^/\s]+)/(\w+)(?:-\d+)?\s+\d+\s+(.*)$`)

func parse(r io.Reader) (runs, []string, error) {
	out := runs{}
	var order []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		name, impl := m[1], m[2]
		res := result{}
		f := strings.Fields(m[3])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, nil, fmt.Errorf("%q: %w", sc.Text(), err)
			}
			res[f[i+1]] = v
		}
		if out[name] == nil {
			out[name] = map[string][]result{}
			order = append(order, name)
		}
		out[name][impl] = append(out[name][impl], res)
	}
	return out, order, sc.Err()
}

// ratios returns sdk/base for unit, one per round both ran.
func ratios(sdk, base []result, unit string) []float64 {
	var rs []float64
	for i := 0; i < len(sdk) && i < len(base); i++ {
		if b := base[i][unit]; b > 0 {
			rs = append(rs, sdk[i][unit]/b)
		}
	}
	slices.Sort(rs)
	return rs
}

func median(xs []float64) float64 {
	n := len(xs)
	switch {
	case n == 0:
		return 0
	case n%2 == 1:
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

func main() {
	check := flag.Bool("check", false, "exit 1 when a case misses a target")
	transport := flag.String("transport", "network", "the transport the results were taken over (network or memory); memory holds the list cases to a tighter target against ogen")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: ratios [-check] [file ...]  (stdin without files)")
		flag.PrintDefaults()
	}
	flag.Parse()
	var in io.Reader = os.Stdin
	if flag.NArg() > 0 {
		var rs []io.Reader
		for _, name := range flag.Args() {
			f, err := os.Open(name)
			if err != nil {
				fmt.Fprintln(os.Stderr, "ratios:", err)
				os.Exit(2)
			}
			defer f.Close()
			rs = append(rs, f)
		}
		in = io.MultiReader(rs...)
	}
	data, order, err := parse(in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(2)
	}
	if len(order) == 0 {
		fmt.Fprintln(os.Stderr, "ratios: no benchmark results in the input")
		os.Exit(2)
	}
	if !printTable(os.Stdout, data, order, *transport == "memory") && *check {
		os.Exit(1)
	}
}

// printTable writes the table and reports whether every target was met.
// inMemory says the results were taken without a network.
func printTable(w io.Writer, data runs, order []string, inMemory bool) bool {
	fmt.Fprintln(w, "SDK figures as ratios against the floor, ory/client-go and ogen of the same")
	fmt.Fprintln(w, "round; median over rounds [interquartile range]. Lower is better. time is")
	fmt.Fprintln(w, "wall-clock ns/op, cpu the client process's CPU time per op (cpu-ns/op).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| case | rounds | time vs floor | time vs oryclient | time vs ogen | cpu vs floor | cpu vs ogen | B/op vs floor | B/op vs oryclient | B/op vs ogen | allocs vs floor | allocs vs oryclient | allocs vs ogen | targets |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	allMet := true
	for _, name := range order {
		byImpl := data[name]
		sdk, floor, ory, og := byImpl["sdk"], byImpl["floor"], byImpl["oryclient"], byImpl["ogen"]
		if len(sdk) == 0 || len(floor) == 0 || len(ory) == 0 || len(og) == 0 {
			fmt.Fprintf(w, "| %s | missing sdk, floor, oryclient or ogen results ||||||||||||\n", name)
			allMet = false
			continue
		}
		tf, to, tg := ratios(sdk, floor, "ns/op"), ratios(sdk, ory, "ns/op"), ratios(sdk, og, "ns/op")
		cf, cg := ratios(sdk, floor, "cpu-ns/op"), ratios(sdk, og, "cpu-ns/op")
		bf, bo, bg := ratios(sdk, floor, "B/op"), ratios(sdk, ory, "B/op"), ratios(sdk, og, "B/op")
		af, ao, ag := ratios(sdk, floor, "allocs/op"), ratios(sdk, ory, "allocs/op"), ratios(sdk, og, "allocs/op")
		var missed []string
		if median(tf) > maxTimeVsFloor {
			missed = append(missed, fmt.Sprintf("time > %.2fx floor", maxTimeVsFloor))
		}
		if median(af) > maxAllocsVsFloor {
			missed = append(missed, fmt.Sprintf("allocs > %.2fx floor", maxAllocsVsFloor))
		}
		if median(to) >= maxTimeVsOry {
			missed = append(missed, "not faster than oryclient")
		}
		maxOgen := maxTimeVsOgen
		if m, ok := maxTimeVsOgenInMemory[name]; ok && inMemory {
			maxOgen = m
		}
		if median(tg) > maxOgen {
			missed = append(missed, fmt.Sprintf("time > %.2fx ogen", maxOgen))
		}
		if median(ag) > maxAllocsVsOgen {
			missed = append(missed, fmt.Sprintf("allocs > %.2fx ogen", maxAllocsVsOgen))
		}
		if median(bf) > maxBytesVsFloor {
			missed = append(missed, fmt.Sprintf("B/op > %.2fx floor", maxBytesVsFloor))
		}
		verdict := "met"
		if len(missed) > 0 {
			verdict = "MISSED: " + strings.Join(missed, ", ")
			allMet = false
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %.2fx | %.3fx | %.2fx | %.2fx | %.3fx | %.2fx | %s |\n",
			name, len(tf), withRange(tf), withRange(to), withRange(tg), withRange(cf), withRange(cg),
			median(bf), median(bo), median(bg), median(af), median(ao), median(ag), verdict)
	}
	return allMet
}

// withRange is the median and the interquartile range of sorted ratios.
func withRange(rs []float64) string {
	if len(rs) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx [%.2f–%.2f]", median(rs), quantile(rs, 0.25), quantile(rs, 0.75))
}

// quantile interpolates the q-quantile of sorted xs.
func quantile(xs []float64, q float64) float64 {
	pos := q * float64(len(xs)-1)
	i := int(pos)
	if i+1 >= len(xs) {
		return xs[len(xs)-1]
	}
	return xs[i] + (pos-float64(i))*(xs[i+1]-xs[i])
}
