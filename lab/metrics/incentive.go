package metrics

import "strings"

// Incentives compares the leecher groups of an incentive world — one
// whose leechers use more than one choker, such as BitTyrant or free
// riders among tit-for-tat peers (seed 003).
type Incentives struct {
	// Baseline is the honest group every other is compared with: the
	// tit-for-tat group with the most leechers (the first on a tie), or
	// "" when no group runs tit-for-tat, in which case speed-ups are nil.
	Baseline string           `json:"baseline"`
	Groups   []GroupIncentive `json:"groups"`
}

// GroupIncentive is one leecher group's outcome against the baseline.
// A speed-up measures the strategy only when the scenario gives the
// group the same capacities and numbers as the baseline; otherwise it
// also measures those differences.
type GroupIncentive struct {
	Group  string `json:"group"`
	Choker string `json:"choker"`
	// Role is "baseline", "honest" (another tit-for-tat group),
	// "free rider" or "strategic" (any other choker).
	Role string `json:"role"`
	// FreeRider marks a group whose choker never uploads (its name
	// contains "free": freeride, free-rider, …).
	FreeRider bool `json:"free_rider"`
	Leechers  int  `json:"leechers"`
	Completed int  `json:"completed"`
	// MeanRate is the mean of the leechers' download rates (bytes/s; the
	// content size over the completion time for those that completed).
	MeanRate         *float64 `json:"mean_download_rate_bps"`
	MedianCompletion *float64 `json:"median_completion_s"`
	// SpeedUp is MeanRate over the baseline's MeanRate, and
	// CompletionSpeedUp the baseline's median completion time over this
	// group's: above 1 the group does better than honest peers. The rate
	// ratio is the headline because it is defined for groups that never
	// complete (free riders), where a completion-time ratio is not.
	SpeedUp           *float64 `json:"speed_up"`
	CompletionSpeedUp *float64 `json:"completion_speed_up"`
}

// honest reports whether a choker name is BitTorrent's tit-for-tat, as
// choker.New spells it.
func honest(choker string) bool {
	switch strings.ToLower(choker) {
	case "tft", "tit-for-tat":
		return true
	}
	return false
}

func freeRider(choker string) bool { return strings.Contains(strings.ToLower(choker), "free") }

// incentives returns nil unless the leecher groups use at least two
// chokers; groups with no leechers (seeds) take no part.
func incentives(groups []GroupStats) *Incentives {
	var lg []GroupStats
	chokers := map[string]bool{}
	for _, g := range groups {
		if g.Leechers == 0 {
			continue
		}
		lg = append(lg, g)
		c := strings.ToLower(g.Choker)
		if honest(c) {
			c = "tft"
		}
		if c != "" {
			chokers[c] = true
		}
	}
	if len(chokers) < 2 {
		return nil
	}
	inc := &Incentives{}
	var base *GroupStats
	for i, g := range lg {
		if honest(g.Choker) && (base == nil || g.Leechers > base.Leechers) {
			base = &lg[i]
		}
	}
	if base != nil {
		inc.Baseline = base.Name
	}
	for _, g := range lg {
		gi := GroupIncentive{
			Group: g.Name, Choker: g.Choker, FreeRider: freeRider(g.Choker),
			Leechers: g.Leechers, Completed: g.Completed,
		}
		switch {
		case base != nil && g.Name == base.Name:
			gi.Role = "baseline"
		case honest(g.Choker):
			gi.Role = "honest"
		case gi.FreeRider:
			gi.Role = "free rider"
		default:
			gi.Role = "strategic"
		}
		if g.DownloadRate != nil {
			gi.MeanRate = ptr(g.DownloadRate.Mean)
		}
		if g.CompletionTime != nil {
			gi.MedianCompletion = ptr(g.CompletionTime.Median)
		}
		if base != nil {
			if gi.MeanRate != nil && base.DownloadRate != nil {
				gi.SpeedUp = ratio(*gi.MeanRate, base.DownloadRate.Mean)
			}
			if gi.MedianCompletion != nil && base.CompletionTime != nil {
				gi.CompletionSpeedUp = ratio(base.CompletionTime.Median, *gi.MedianCompletion)
			}
		}
		inc.Groups = append(inc.Groups, gi)
	}
	return inc
}
