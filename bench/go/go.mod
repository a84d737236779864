module gocxxbench

go 1.19
