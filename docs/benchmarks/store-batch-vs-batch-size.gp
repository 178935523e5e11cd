set terminal pngcairo size 900,540 noenhanced
set output 'store-batch-vs-batch-size.png'
set title 'store-batch against batch size'
set grid
set key top left
set logscale x
set xlabel 'batch size'
set ylabel 'ops/s'
set yrange [0:*]
plot 'store-batch-vs-batch-size.dat' using 1:2 with linespoints lw 2 pt 7 title 'ours', 'store-batch-vs-batch-size.dat' using 1:3 with linespoints lw 2 pt 5 title 'baseline (raw LMDB puts)'
