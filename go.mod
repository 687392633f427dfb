module github.com/swarmlab/swarmlab

go 1.26.8
