"""compact_models"""
