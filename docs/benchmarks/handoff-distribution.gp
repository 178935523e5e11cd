set terminal pngcairo size 900,540 noenhanced
set output 'handoff-distribution.png'
set title 'handoff: cumulative distribution'
set grid
set key top left
set logscale x
set xlabel 'ms'
set ylabel 'fraction of samples at or below'
set yrange [0:1]
set key bottom right
plot 'handoff-distribution-0.dat' using 1:2 with steps lw 2 title 'handoff (1000 samples)', 'handoff-distribution-1.dat' using 1:2 with steps lw 2 title 'raw LMDB durable commit (200 samples)'
