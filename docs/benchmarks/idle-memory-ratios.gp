set terminal pngcairo size 900,540 noenhanced
set output 'idle-memory-ratios.png'
set title 'idle-memory: ours / baseline'
set grid
set key top left
set style fill solid 0.6
set boxwidth 0.6
set ylabel 'ratio (ours / baseline)'
set yrange [0:*]
set xtics rotate by -30
unset key
plot 'idle-memory-ratios.dat' using 1:2:xtic(3) with boxes lc rgb '#4477aa'
