package scenario

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Variants turn one scenario into several worlds that differ in a few
// fields and are run separately, then compared side by side. That is the
// clean comparison of strategies: in a world of its own each strategy
// meets only itself, so its figures are not a mix of its behaviour and
// its neighbours'. A question about how strategies fare against each
// other (incentives: does a BitTyrant gain among tit-for-tat peers?) is a
// single world with one group per strategy instead, and needs no
// variants.
//
// A variant is written as patches over the scenario:
//
//	variants:
//	  - name: random
//	    set: {picker: random}               # every group
//	    groups: {leechers: {count: 50}}     # one group, by name
//	    tracker: {numwant: 3}               # also content, limits
//
// A patch is merged into what the scenario wrote, key by key (mappings
// such as gossip or arrival merge recursively), and the result is
// validated like any group, so a variant can never hold a field a
// scenario could not.

// variants decodes the variants list into one world each.
func (d *decoder) variants(base *World, n, content, tracker, limits *yaml.Node, groups []namedNode) []World {
	var worlds []World
	seen := map[string]bool{}
	d.list(n, "variants", func(i int, vn *yaml.Node, path string) {
		var name, desc string
		var set, perGroup, vContent, vTracker, vLimits *yaml.Node
		ok := d.mapping(vn, path,
			field{"name", func(n *yaml.Node, p string) { d.str(n, p, &name) }},
			field{"description", func(n *yaml.Node, p string) { d.str(n, p, &desc) }},
			field{"set", func(n *yaml.Node, p string) { set = d.patch(n, p) }},
			field{"groups", func(n *yaml.Node, p string) { perGroup = d.patch(n, p) }},
			field{"content", func(n *yaml.Node, p string) { vContent = d.patch(n, p) }},
			field{"tracker", func(n *yaml.Node, p string) { vTracker = d.patch(n, p) }},
			field{"limits", func(n *yaml.Node, p string) { vLimits = d.patch(n, p) }},
		)
		if !ok {
			return
		}
		switch {
		case name == "":
			d.errorf(vn, path+".name", "missing: every variant needs a name")
			return
		case !validName(name):
			d.errorf(vn, path+".name", "%q: use letters, digits, '-' and '_' only (it names output directories)", name)
			return
		case seen[name]:
			d.errorf(vn, path+".name", "%q names two variants", name)
			return
		}
		seen[name] = true

		patched := make([]namedNode, len(groups))
		for j, g := range groups {
			patched[j] = namedNode{name: g.name, node: merge(g.node, set)}
		}
		if perGroup != nil {
			for k := 0; k+1 < len(perGroup.Content); k += 2 {
				key, val := perGroup.Content[k], perGroup.Content[k+1]
				found := false
				for j := range patched {
					if patched[j].name == key.Value {
						patched[j].node = merge(patched[j].node, val)
						found = true
					}
				}
				if !found {
					d.errorf(key, path+".groups", "no group is called %q", key.Value)
				}
			}
		}

		w := World{Scenario: base.Scenario, Variant: name, Description: desc, Mode: base.Mode, Seed: base.Seed, Sim: base.Sim}
		if w.Description == "" {
			w.Description = base.Description
		}
		prefix := d.prefix
		d.prefix = fmt.Sprintf("variant %q: ", name)
		d.world(&w, merge(content, vContent), merge(tracker, vTracker), merge(limits, vLimits), patched)
		d.prefix = prefix
		worlds = append(worlds, w)
	})
	if n.Kind == yaml.SequenceNode && len(n.Content) == 0 {
		d.errorf(n, "variants", "empty list: leave variants out to run the scenario as one world")
	}
	return worlds
}

// patch checks that n is a mapping and returns it.
func (d *decoder) patch(n *yaml.Node, path string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want a mapping of fields to change, got %s", kindName(n))
		return nil
	}
	return n
}
