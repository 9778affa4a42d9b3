// Command porcupinedriver checks histories with porcupine, for benchmarks/bench_linearizable.py.
//
//	porcupinedriver FILE...
//
// A FILE ending in .log is a Jepsen etcd log, read as porcupine's own etcd test reads it
// (":fail :cas" completed and returned false; a failed read returned nothing, in its place;
// an ":info" op is indeterminate). Any other FILE is a splitbrain JSONL history of a register store (read,
// write, cas; "fail" did not happen; "info" and never-completed ops are indeterminate), checked
// with a key-value model partitioned by key, so porcupine checks the keys on all cores.
//
// It prints one verdict a file and, on stderr, the seconds spent reading and checking. Exit
// status: 0 when every file is linearizable, 1 when one is not, 2 when one is unknown, 254 on
// bad input.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

type input struct {
	key  string
	op   uint8 // 0 read, 1 write, 2 cas
	a, b int
}

type output struct {
	value   int  // what a read returned
	ok      bool // whether a cas applied
	unknown bool
}

// values numbers the values a history names, nil (JSON null) as 0, so that states are ints.
type values map[string]int

func (v values) of(s string) int {
	if s == "" || s == "null" || s == "nil" {
		return 0
	}
	n, ok := v[s]
	if !ok {
		n = len(v) + 1
		v[s] = n
	}
	return n
}

var model = porcupine.Model{
	PartitionEvent: partitionByKey,
	Init:           func() interface{} { return 0 },
	Step: func(state, in, out interface{}) (bool, interface{}) {
		st := state.(int)
		i := in.(input)
		o := out.(output)
		switch i.op {
		case 0:
			return o.unknown || o.value == st, st
		case 1:
			return true, i.a
		default:
			if st == i.a {
				return o.unknown || o.ok, i.b
			}
			return o.unknown || !o.ok, st
		}
	},
}

func partitionByKey(history []porcupine.Event) [][]porcupine.Event {
	index := map[string]int{}
	keyOf := map[int]string{}
	var parts [][]porcupine.Event
	for _, e := range history {
		var key string
		if e.Kind == porcupine.CallEvent {
			key = e.Value.(input).key
			keyOf[e.Id] = key
		} else {
			key = keyOf[e.Id]
		}
		n, seen := index[key]
		if !seen {
			n = len(parts)
			index[key] = n
			parts = append(parts, nil)
		}
		parts[n] = append(parts[n], e)
	}
	return parts
}

// events collects a history's call and return events; ops left open at the end return
// "unknown" after every other event.
type events struct {
	list   []porcupine.Event
	open   map[string]int // process -> id of its open call
	failed map[int]bool
	nextID int
	unsure []int
}

func newEvents() *events {
	return &events{open: map[string]int{}, failed: map[int]bool{}}
}

func (h *events) call(proc string, in input) {
	if id, ok := h.open[proc]; ok {
		h.unsure = append(h.unsure, id)
	}
	h.open[proc] = h.nextID
	h.list = append(h.list, porcupine.Event{Kind: porcupine.CallEvent, Value: in, Id: h.nextID})
	h.nextID++
}

func (h *events) complete(proc string, out output) bool {
	id, ok := h.open[proc]
	if !ok {
		return false
	}
	delete(h.open, proc)
	h.list = append(h.list, porcupine.Event{Kind: porcupine.ReturnEvent, Value: out, Id: id})
	return true
}

func (h *events) fail(proc string) bool {
	id, ok := h.open[proc]
	if ok {
		delete(h.open, proc)
		h.failed[id] = true
	}
	return ok
}

func (h *events) indeterminate(proc string) bool {
	id, ok := h.open[proc]
	if ok {
		delete(h.open, proc)
		h.unsure = append(h.unsure, id)
	}
	return ok
}

func (h *events) done() []porcupine.Event {
	for _, id := range h.open {
		h.unsure = append(h.unsure, id)
	}
	for _, id := range h.unsure {
		h.list = append(h.list, porcupine.Event{Kind: porcupine.ReturnEvent, Value: output{unknown: true}, Id: id})
	}
	if len(h.failed) == 0 {
		return h.list
	}
	kept := h.list[:0]
	for _, e := range h.list {
		if !h.failed[e.Id] {
			kept = append(kept, e)
		}
	}
	return kept
}

type jsonOp struct {
	Process json.RawMessage `json:"process"`
	Type    string          `json:"type"`
	F       string          `json:"f"`
	Key     json.RawMessage `json:"key"`
	Value   json.RawMessage `json:"value"`
}

func readJSONL(path string) ([]porcupine.Event, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	h := newEvents()
	vals := values{}
	lines := bufio.NewScanner(file)
	lines.Buffer(make([]byte, 1<<20), 1<<26)
	for n := 1; lines.Scan(); n++ {
		line := bytes.TrimSpace(lines.Bytes())
		if len(line) == 0 {
			continue
		}
		var op jsonOp
		if err := json.Unmarshal(line, &op); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, n, err)
		}
		if op.Type == "" {
			continue
		}
		proc := string(op.Process)
		ok := true
		switch op.Type {
		case "invoke":
			in := input{key: string(op.Key)}
			switch op.F {
			case "read":
			case "write":
				in.op, in.a = 1, vals.of(string(op.Value))
			case "cas":
				var pair []json.RawMessage
				if err := json.Unmarshal(op.Value, &pair); err != nil || len(pair) != 2 {
					return nil, fmt.Errorf("%s:%d: cas value is not a pair", path, n)
				}
				in.op, in.a, in.b = 2, vals.of(string(pair[0])), vals.of(string(pair[1]))
			default:
				return nil, fmt.Errorf("%s:%d: f %q is not read, write or cas", path, n, op.F)
			}
			h.call(proc, in)
		case "ok":
			ok = h.complete(proc, output{value: vals.of(string(op.Value)), ok: true})
		case "fail":
			ok = h.fail(proc)
		case "info":
			ok = h.indeterminate(proc)
		default:
			return nil, fmt.Errorf("%s:%d: type %q", path, n, op.Type)
		}
		if !ok {
			return nil, fmt.Errorf("%s:%d: completion without an invocation", path, n)
		}
	}
	return h.done(), lines.Err()
}

var jepsenLine = regexp.MustCompile(`^INFO\s+jepsen\.util\s+-\s+(\d+)\s+:(\w+)\s+:(\w+)\s+(.*)$`)

func readJepsenLog(path string) ([]porcupine.Event, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	h := newEvents()
	vals := values{}
	for _, line := range strings.Split(string(data), "\n") {
		m := jepsenLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		proc, typ, f, value := m[1], m[2], m[3], strings.TrimSpace(m[4])
		switch {
		case typ == "invoke" && f == "read":
			h.call(proc, input{})
		case typ == "invoke" && f == "write":
			h.call(proc, input{op: 1, a: vals.of(value)})
		case typ == "invoke" && f == "cas":
			pair := strings.Fields(strings.Trim(value, "[]"))
			if len(pair) != 2 {
				return nil, fmt.Errorf("%s: cas value %q", path, value)
			}
			h.call(proc, input{op: 2, a: vals.of(pair[0]), b: vals.of(pair[1])})
		case typ == "ok":
			h.complete(proc, output{value: vals.of(value), ok: true})
		case typ == "fail" && f == "cas":
			h.complete(proc, output{ok: false})
		case typ == "fail" && f == "read":
			h.complete(proc, output{unknown: true})
		case typ == "fail" || typ == "info":
			h.indeterminate(proc)
		}
	}
	return h.done(), nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: porcupinedriver FILE...")
		os.Exit(254)
	}
	status := 0
	var reading, checking time.Duration
	for _, path := range os.Args[1:] {
		start := time.Now()
		var history []porcupine.Event
		var err error
		if strings.HasSuffix(path, ".log") {
			history, err = readJepsenLog(path)
		} else {
			history, err = readJSONL(path)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(254)
		}
		reading += time.Since(start)
		start = time.Now()
		result := porcupine.CheckEvents(model, history)
		checking += time.Since(start)
		verdict := "valid"
		if !result {
			verdict = "invalid"
			status = 1
		}
		fmt.Printf("%s: %s\n", path, verdict)
	}
	fmt.Fprintf(os.Stderr, "read %.3f s, check %.3f s\n", reading.Seconds(), checking.Seconds())
	os.Exit(status)
}
