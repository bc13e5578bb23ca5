"""netlists"""
