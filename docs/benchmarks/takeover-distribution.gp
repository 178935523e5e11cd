set terminal pngcairo size 900,540 noenhanced
set output 'takeover-distribution.png'
set title 'takeover: cumulative distribution'
set grid
set key top left
set logscale x
set xlabel 's'
set ylabel 'fraction of samples at or below'
set yrange [0:1]
set key bottom right
plot 'takeover-distribution-0.dat' using 1:2 with steps lw 2 title 'takeover (3 samples)'
