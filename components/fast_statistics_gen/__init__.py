"""FastStatisticsGen: the stock StatisticsGen, with splits that fit in memory done without Beam."""
