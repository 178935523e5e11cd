set terminal pngcairo size 900,540 noenhanced
set output 'session-start-distribution.png'
set title 'session-start: cumulative distribution'
set grid
set key top left
set logscale x
set xlabel 'ms'
set ylabel 'fraction of samples at or below'
set yrange [0:1]
set key bottom right
plot 'session-start-distribution-0.dat' using 1:2 with steps lw 2 title 'start_session, 1000 concurrent starts (3000 samples)', 'session-start-distribution-1.dat' using 1:2 with steps lw 2 title 'raw LMDB durable commit (200 samples)'
