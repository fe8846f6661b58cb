module firkin.dev/firkin

go 1.19
