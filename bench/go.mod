module github.com/swarmlab/swarmlab/bench

go 1.26.8

replace github.com/swarmlab/swarmlab => ../

require (
	github.com/anacrolix/torrent v1.62.0
	github.com/jackpal/bencode-go v1.0.2
	github.com/swarmlab/swarmlab v0.0.0-00010101000000-000000000000
	github.com/zeebo/bencode v1.0.0
)

require (
	github.com/anacrolix/missinggo v1.3.0 // indirect
	github.com/anacrolix/missinggo/v2 v2.11.0 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/huandu/xstrings v1.3.2 // indirect
	github.com/redis/go-redis/v9 v9.23.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	go.yaml.in/yaml/v3 v3.0.6 // indirect
	golang.org/x/net v0.60.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
